using System.Diagnostics;
using ProvenanceGate.Formats.Safetensors;
using ProvenanceGate.Formats.Weights;
using ProvenanceGate.IO;

namespace ProvenanceGate.Tests.Fingerprinting;

/// <summary>
/// Weights are memory-mapped only under a read lease: a file truncated beneath a mapping would raise SIGBUS and end
/// the process (an MSBuild node for the task) instead of giving an error.
/// </summary>
[Platform("Linux")]
public sealed class MappedReadLeaseTests
{
    [Test]
    public void Another_process_cannot_truncate_a_mapped_weight_file_until_the_reader_is_done()
    {
        const int Rows = 4000, Width = 128;
        using var temp = new TempDirectory();
        var values = Enumerable.Range(0, Rows * Width).Select(i => (float)((i % 97) - 48)).ToArray();
        File.WriteAllBytes(temp.Combine("model.safetensors"), SafetensorsWriter.Serialize([new NamedTensor("w.weight", [Rows, Width], values)], SafetensorsDType.F32));
        var tensor = WeightFormats.Open(temp.Path)!.Tensors[0];
        Assert.That(tensor.ByteLength, Is.GreaterThan(TensorReader.ChunkBytes), "large enough to be mapped");

        Process? truncate = null;
        double sum = 0;
        var reader = new TensorReader();
        try
        {
            reader.ReadBlocks(tensor, block =>
            {
                if (truncate is null)
                {
                    // The shell's "> file" opens with O_TRUNC and blocks (coreutils' truncate opens non-blocking and is refused).
                    truncate = Process.Start(new ProcessStartInfo("sh", ["-c", ": > \"$1\"", "sh", tensor.FilePath]))!;
                    Assert.That(truncate.WaitForExit(500), Is.False, "the truncation waits while the file is mapped");
                }

                foreach (var value in block.Values)
                    sum += value;
            });
        }
        finally
        {
            reader.Dispose();
        }

        Assert.That(sum, Is.EqualTo(values.Sum(v => (double)v)), "every mapped byte was read intact");
        Assert.That(truncate!.WaitForExit(20_000), Is.True, "the truncation goes ahead once the reader is done");
        Assert.That(new FileInfo(tensor.FilePath).Length, Is.Zero);
    }

    [Test]
    public void No_lease_is_taken_on_a_file_someone_has_open_for_writing()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("weights.bin");
        File.WriteAllBytes(path, new byte[4096]);
        using var writer = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        using var reading = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

        Assert.That(ReadLease.TryTake(reading), Is.False, "a writer could truncate it: read, do not map");
    }

    [Test]
    public void A_lease_is_taken_on_a_file_nobody_writes_and_a_writer_breaks_it()
    {
        using var temp = new TempDirectory();
        var path = temp.Combine("weights.bin");
        File.WriteAllBytes(path, new byte[4096]);
        using var reading = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);

        Assert.That(ReadLease.TryTake(reading), Is.True);
        Assert.That(ReadLease.IsBreaking(reading), Is.False);
        using var opener = Process.Start(new ProcessStartInfo("sh", ["-c", "exec 3>>\"$1\"", "sh", path]))!;
        Assert.That(SpinWait.SpinUntil(() => ReadLease.IsBreaking(reading), 10_000), Is.True, "an open for writing breaks the lease");
        ReadLease.Release(reading);
        Assert.That(opener.WaitForExit(20_000), Is.True);
    }
}
