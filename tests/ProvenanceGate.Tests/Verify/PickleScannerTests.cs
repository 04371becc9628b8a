using ProvenanceGate.Verification.Pickle;

namespace ProvenanceGate.Tests.Verify;

public sealed class PickleScannerTests
{
    private static PickleScanResult ScanBytes(byte[] bytes, string extension = ".bin")
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("weights" + extension);
        File.WriteAllBytes(path, bytes);
        return PickleScanner.Scan(path);
    }

    [Test]
    public void Global_opcode_importing_os_system_is_code()
    {
        var result = ScanBytes(PickleBuilder.OsSystem());
        Assert.That(result.Error, Is.Null);
        Assert.That(string.Join(",", result.CodeImports.Select(g => g.FullName)), Is.EqualTo("os.system"));
    }

    [Test]
    public void Stack_global_operands_are_resolved_through_the_memo()
    {
        // Protocol 4: 'posix' and 'system' pushed and memoized, then fetched again with BINGET before STACK_GLOBAL.
        var bytes = new PickleBuilder().Proto(4)
            .ShortUnicode("posix").ShortUnicode("system").Op('0').Op('0')
            .BinGet(0).BinGet(1).StackGlobal()
            .ShortUnicode("id", memoize: false).Op(0x85).Op('R').Stop().ToArray();
        var result = ScanBytes(bytes);
        Assert.That(result.Error, Is.Null);
        Assert.That(string.Join(",", result.CodeImports.Select(g => g.FullName)), Is.EqualTo("posix.system"));
    }

    [Test]
    public void Builtins_eval_via_inst_is_code_but_builtins_set_is_data()
    {
        var bytes = new PickleBuilder().Op('(').Op('S').Raw("'1+1'\n"u8.ToArray()).Op('i').Raw("builtins\neval\n"u8.ToArray())
            .Global("builtins", "set").Op(')').Op('R').Op('0').Stop().ToArray();
        var result = ScanBytes(bytes, ".pkl");
        Assert.That(string.Join(",", result.CodeImports.Select(g => g.FullName)), Is.EqualTo("builtins.eval"));
        Assert.That(result.Globals.Single(g => g.Name == "set").Kind, Is.EqualTo(GlobalKind.KnownData));
    }

    [Test]
    public void Torch_state_dict_only_uses_known_data_globals()
    {
        var result = ScanBytes(PickleBuilder.TorchStateDict());
        Assert.That(result.Error, Is.Null);
        Assert.That(string.Join(",", result.Globals.Select(g => g.FullName).Distinct().Order(StringComparer.Ordinal)), Is.EqualTo("collections.OrderedDict,torch.FloatStorage,torch._utils._rebuild_tensor_v2"));
        Assert.That(result.Globals.Select(g => g.Kind), Has.All.EqualTo(GlobalKind.KnownData));
    }

    [Test]
    public void Tensor_helpers_in_code_modules_are_data_but_the_policy_cannot_allow_code()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("weights.pt");
        File.WriteAllBytes(path, new PickleBuilder().Proto(2).Global("torch.serialization", "_get_layout").Op('0')
            .Global("torch", "float8_e4m3fn").Op('0').Global("torch.serialization", "load").Op('0').Stop().ToArray());
        var result = PickleScanner.Scan(path, new HashSet<string>(StringComparer.Ordinal) { "torch.serialization.load" });
        Assert.That(string.Join(",", result.Globals.Select(g => $"{g.FullName}={g.Kind}")),
            Is.EqualTo("torch.serialization._get_layout=KnownData,torch.float8_e4m3fn=KnownData,torch.serialization.load=Code"));
    }

    [Test]
    public void Zip_checkpoints_are_opened_and_their_data_pkl_walked()
    {
        var safe = ScanBytes(PickleBuilder.TorchZip(PickleBuilder.TorchStateDict()), ".pt");
        Assert.That(safe.IsZip, Is.True);
        Assert.That(safe.Error, Is.Null);
        Assert.That(safe.CodeImports, Is.Empty);

        var evil = ScanBytes(PickleBuilder.TorchZip(PickleBuilder.OsSystem()), ".pt");
        Assert.That(evil.CodeImports.Single().Entry, Is.EqualTo("archive/data.pkl"));
    }

    [Test]
    public void Legacy_torch_files_walk_every_leading_pickle()
    {
        // Legacy torch.save: magic number, protocol, sys info, then the state dict, then raw storage bytes.
        var magic = new PickleBuilder().Proto(2).Op('K').Raw(7).Stop().ToArray();
        var evil = PickleBuilder.OsSystem();
        var result = ScanBytes([.. magic, .. evil, 0x00, 0x01, 0x02]);
        Assert.That(result.Error, Is.Null);
        Assert.That(string.Join(",", result.CodeImports.Select(g => g.FullName)), Is.EqualTo("os.system"));
    }

    [Test]
    public void Unknown_globals_and_unresolvable_stack_globals_are_not_trusted()
    {
        var unknown = ScanBytes(new PickleBuilder().Proto(2).Global("mypackage.models", "Net").Op(')').Op(0x81).Stop().ToArray());
        Assert.That(unknown.UnknownGlobals.Single().FullName, Is.EqualTo("mypackage.models.Net"));

        // STACK_GLOBAL whose operands are not literal strings (computed): cannot be named, so never trusted.
        var computed = ScanBytes(new PickleBuilder().Proto(4).Op('K').Raw(1).Op('K').Raw(2).StackGlobal().Stop().ToArray());
        Assert.That(computed.UnknownGlobals.Single().Module, Is.EqualTo("?"));
    }

    [Test]
    public void Truncated_and_garbage_pickles_are_reported_not_passed()
    {
        var truncated = ScanBytes(new PickleBuilder().Proto(2).Global("collections", "OrderedDict").ToArray());
        Assert.That(truncated.Error, Does.Contain("STOP"));

        var lying = ScanBytes(new PickleBuilder().Proto(2).Op('X').Raw(BitConverter.GetBytes(int.MaxValue)).Stop().ToArray());
        Assert.That(lying.Error, Does.Contain("past the end"));

        var garbage = ScanBytes([0xff, 0xfe, 0x00]);
        Assert.That(garbage.Error, Does.Contain("unknown opcode"));
    }
}
