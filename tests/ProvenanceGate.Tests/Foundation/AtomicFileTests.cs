using ProvenanceGate.Diagnostics;
using ProvenanceGate.IO;

namespace ProvenanceGate.Tests.Foundation;

public sealed class AtomicFileTests
{
    [Test]
    public void Writes_content_and_leaves_no_temp_files()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("out", "bom.json");
        AtomicFile.WriteAllText(path, "{}");
        Assert.That(File.ReadAllText(path), Is.EqualTo("{}"));
        Assert.That(Directory.GetFiles(temp.Combine("out")), Has.Length.EqualTo(1));
    }

    [Test]
    public void Refuses_to_overwrite_without_permission_and_keeps_the_original()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("cosign.key");
        File.WriteAllText(path, "original");
        var ex = Assert.Throws<ProvenanceException>(() => AtomicFile.WriteAllText(path, "new", overwrite: false))!;
        Assert.That(ex.Diagnostic.Code, Is.EqualTo("PG0005"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("original"));
        Assert.That(Directory.GetFiles(temp.Path), Has.Length.EqualTo(1));
    }

    [Test]
    public void Creates_files_with_the_requested_mode()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("Unix file modes only");
            return;
        }

        using var temp = new TempDirectory();
        var path = temp.Combine("private.key");
        AtomicFile.WriteAllText(path, "secret", mode: UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.That(File.GetUnixFileMode(path), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }

    [Test]
    public void Write_if_changed_keeps_the_timestamp_of_identical_content()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("a.txt");
        Assert.That(AtomicFile.WriteAllTextIfChanged(path, "x"), Is.True);
        var stamp = new DateTime(2020, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, stamp);
        Assert.That(AtomicFile.WriteAllTextIfChanged(path, "x"), Is.False);
        Assert.That(File.GetLastWriteTimeUtc(path), Is.EqualTo(stamp));
        Assert.That(AtomicFile.WriteAllTextIfChanged(path, "y"), Is.True);
        Assert.That(File.ReadAllText(path), Is.EqualTo("y"));
    }

    [Test]
    public void A_file_name_at_the_file_system_limit_still_gets_a_temp_name()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine(new string('n', 250) + ".json");
        AtomicFile.WriteAllText(path, "{}");
        Assert.That(File.ReadAllText(path), Is.EqualTo("{}"));
        Assert.That(Directory.GetFiles(temp.Path), Has.Length.EqualTo(1));
    }

    [Test]
    public void A_later_write_removes_the_temp_file_of_a_writer_that_died_and_keeps_a_live_ones()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("bom.json");
        var dead = temp.Combine($".bom.json.{int.MaxValue - 1}.0123456789abcdef.tmp");
        var live = temp.Combine($".bom.json.{Environment.ProcessId}.fedcba9876543210.tmp");
        var other = temp.Combine($".report.json.{int.MaxValue - 1}.0123456789abcdef.tmp");
        foreach (var file in new[] { dead, live, other })
        {
            File.WriteAllText(file, "partial");
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-10));
        }

        AtomicFile.WriteAllText(path, "{}");
        Assert.That(File.Exists(dead), Is.False, "a dead writer's temp file of this output is removed");
        Assert.That(File.Exists(live), Is.True, "a running process's temp file is never touched");
        Assert.That(File.Exists(other), Is.True, "another output's temp files are not this write's business");
    }
}
