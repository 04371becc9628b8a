using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ProvenanceGate.Bom;

/// <summary>
/// SHA-256 of model files, fast: files are hashed in parallel (one per core, largest first so a big shard does
/// not start last), each read in 4 MiB blocks with no FileStream buffer, sequential-scan hinted so the kernel reads ahead.
/// </summary>
public static class FileHasher
{
    public const int BlockSize = 4 * 1024 * 1024;

    /// <summary>Lower-case hex SHA-256 per path. <paramref name="progress"/> receives byte counts as they are hashed.</summary>
    public static IReadOnlyDictionary<string, string> Sha256(IReadOnlyCollection<string> paths, IProgress<long>? progress = null, int? maxParallelism = null)
    {
        var results = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var ordered = paths.Distinct(StringComparer.Ordinal).OrderByDescending(SafeLength).ToList();
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxParallelism ?? Environment.ProcessorCount };
        try
        {
            Parallel.ForEach(Partitioner.Create(ordered, EnumerablePartitionerOptions.NoBuffering), options, path => results[path] = Sha256(path, progress));
        }
        catch (AggregateException ex) when (ex.InnerExceptions.FirstOrDefault() is Diagnostics.ProvenanceException first)
        {
            throw first;
        }

        return results;
    }

    public static string Sha256(string path, IProgress<long>? progress = null)
    {
        // A device never ends (/dev/zero) and a FIFO blocks: neither is hashed.
        IO.InputFile.EnsureRegularFile(path, "model file");
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = ArrayPool<byte>.Shared.Rent(BlockSize);
            try
            {
                // Synchronous reads on purpose: the kernel's read-ahead (SequentialScan) already overlaps the disk with
                // hashing, and blocking on async reads from Parallel.ForEach workers would starve the thread pool.
                int read;
                while ((read = stream.Read(buffer, 0, BlockSize)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    progress?.Report(read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset());
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Diagnostics.Diagnostics.FileNotFound.Exception($"'{path}' does not exist", path, inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Diagnostics.Diagnostics.FileUnreadable.Exception($"cannot read '{path}': {ex.Message}", path, inner: ex);
        }
    }

    private static long SafeLength(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
