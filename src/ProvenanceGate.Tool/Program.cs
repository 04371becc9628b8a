using ProvenanceGate.Tool.Cli;

return ProvenanceCli.Run(args, Console.Out, Console.Error);
