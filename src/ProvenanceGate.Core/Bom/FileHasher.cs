using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ProvenanceGate.Bom;

/// <summary>
/// SHA-256 of model files, fast: files are hashed in parallel (one per core, largest first so a big shard does
/// not start last), each read in 4 MiB blocks with no FileStream buffer, while the next block is already being
/// read as the current one is hashed.
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
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan | FileOptions.Asynchronous);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var current = ArrayPool<byte>.Shared.Rent(BlockSize);
            var next = ArrayPool<byte>.Shared.Rent(BlockSize);
            try
            {
                var read = stream.Read(current, 0, BlockSize);
                while (read > 0)
                {
                    // Overlap: the kernel copies the next block while this thread hashes the current one.
                    var pending = stream.ReadAsync(next, 0, BlockSize);
                    hash.AppendData(current, 0, read);
                    progress?.Report(read);
                    read = pending.GetAwaiter().GetResult();
                    (current, next) = (next, current);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(current);
                ArrayPool<byte>.Shared.Return(next);
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
