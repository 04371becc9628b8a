using ProvenanceGate.Tool.Cli;

// CI detection happens here, at the process boundary, so in-process tests never emit annotations by accident.
return ProvenanceCli.Run(args, Console.Out, Console.Error, CiAnnotations.Detect(Environment.GetEnvironmentVariable));
