using ILGPU;
using ILGPU.Runtime;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Accelerators.Ilgpu;

/// <summary>
/// <see cref="ILinearAlgebraKernels"/> on an ILGPU accelerator (CUDA, OpenCL, or ILGPU's CPU emulator for tests).
/// One shared-memory tiled product kernel does the work: the projection P = A·Bᵀ, the projected Gram P·Pᵀ and each
/// Newton–Schulz step are all products of that shape. Device work is serialised by one lock (the fingerprinter calls
/// from several worker threads; a GPU runs one launch at a time anyway) and streamed in bounded chunks:
/// see <see cref="MaxChunkElements"/> and <see cref="AnchorSlots"/>.
/// </summary>
public sealed class IlgpuKernels : ILinearAlgebraKernels, IDisposable
{
    /// <summary>Edge of the square tile a group computes (16×16 threads, two 16×16 float tiles in shared memory).</summary>
    public const int Tile = 16;

    /// <summary>Most floats of an input matrix sent in one launch (64 MiB): longer inputs are streamed in row chunks.</summary>
    public const int MaxChunkElements = 16 << 20;

    /// <summary>Anchor matrices kept on the device (one per tensor being streamed: the fingerprinter runs at most 8 workers).</summary>
    public const int AnchorSlots = 8;

    private readonly Accelerator _accelerator;
    private readonly int _maxChunkElements;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>> _multiply;
    private readonly Action<Index1D, ArrayView<float>, int, ArrayView<float>> _identityStep;
    private readonly Action<Index2D, ArrayView<float>, int, ArrayView<float>> _transpose;
    private readonly Lock _gate = new();
    private readonly LinkedList<(float[] Host, MemoryBuffer1D<float, Stride1D.Dense> Device)> _anchors = new();
    private MemoryBuffer1D<float, Stride1D.Dense>? _rows;
    private MemoryBuffer1D<float, Stride1D.Dense>? _projection;
    private MemoryBuffer1D<float, Stride1D.Dense>? _gram;

    /// <param name="maxChunkElements">The streaming bound; tests lower it to exercise the chunked path on small inputs.</param>
    public IlgpuKernels(Accelerator accelerator, int maxChunkElements = MaxChunkElements)
    {
        _accelerator = accelerator;
        _maxChunkElements = maxChunkElements;
        _multiply = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, int, ArrayView<float>>(MultiplyTransposedKernel);
        _identityStep = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<float>>(IdentityStepKernel);
        _transpose = accelerator.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, int, ArrayView<float>>(TransposeKernel);
    }

    public Accelerator Accelerator => _accelerator;

    public void MultiplyTransposed(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int k, Span<float> c)
    {
        int m = a.Length / k, n = b.Length / k;
        if (m == 0 || n == 0)
            return;
        // Rows of A stream in chunks; B goes up once (callers keep B the smaller side: anchors, or a d×d matrix).
        var chunkRows = Math.Max(1, Math.Min(m, _maxChunkElements / Math.Max(k, n)));
        lock (_gate)
        {
            using var right = _accelerator.Allocate1D<float>(b.Length);
            right.View.CopyFromCPU(_accelerator.DefaultStream, b);
            var left = Ensure(ref _rows, (long)chunkRows * k);
            var product = Ensure(ref _projection, (long)chunkRows * n);
            for (var first = 0; first < m; first += chunkRows)
            {
                var rows = Math.Min(chunkRows, m - first);
                left.View.SubView(0, (long)rows * k).CopyFromCPU(_accelerator.DefaultStream, a.Slice(first * k, rows * k));
                Multiply(left.View, rows, right.View, n, k, product.View);
                product.View.SubView(0, (long)rows * n).CopyToCPU(_accelerator.DefaultStream, c.Slice(first * n, rows * n));
            }
        }
    }

    /// <summary>A rank-1 update is one multiply-add per element: a launch and two transfers cost more, so it stays on the host.</summary>
    public void AccumulateOuter(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> c) => LinearAlgebraKernels.Default.AccumulateOuter(x, y, c);

    /// <summary>
    /// The block goes up, P = A·blockᵀ and P·Pᵀ are computed where they are, and only the n×n Gram comes back (added
    /// in double on the host, like the CPU path's fold): per block, one upload of the rows and a 4 KiB download.
    /// </summary>
    public void AccumulateProjectedGram(float[] anchors, ReadOnlySpan<float> rows, int k, Span<double> gram)
    {
        var n = anchors.Length / k;
        var total = rows.Length / k;
        if (n == 0 || total == 0)
            return;
        var chunkRows = Math.Max(1, Math.Min(total, _maxChunkElements / Math.Max(k, n)));
        var partial = new float[n * n];
        lock (_gate)
        {
            var anchorView = AnchorsOnDevice(anchors);
            var block = Ensure(ref _rows, (long)chunkRows * k);
            var projection = Ensure(ref _projection, (long)chunkRows * n);
            var product = Ensure(ref _gram, (long)n * n);
            for (var first = 0; first < total; first += chunkRows)
            {
                var count = Math.Min(chunkRows, total - first);
                block.View.SubView(0, (long)count * k).CopyFromCPU(_accelerator.DefaultStream, rows.Slice(first * k, count * k));
                Multiply(anchorView, n, block.View, count, k, projection.View);
                Multiply(projection.View, n, projection.View, n, count, product.View);
                product.View.SubView(0, (long)n * n).CopyToCPU(_accelerator.DefaultStream, partial.AsSpan());
                for (var i = 0; i < partial.Length; i++)
                    gram[i] += partial[i];
            }
        }
    }

    /// <summary>
    /// The same Newton–Schulz iteration as <see cref="OrthogonalAlignment.Run"/>, with X, X·Xᵀ and Xᵀ kept on the
    /// device (3·d² floats: 768 MiB at d = 8192); per step only the d per-row errors come back.
    /// </summary>
    public int AlignOrthogonal(ReadOnlySpan<float> m, int d, Span<float> q)
    {
        if (m.Length != d * d || q.Length != d * d)
            throw new ArgumentException("m and q must be d×d");
        var scale = (float)(1 / Math.Max(Math.Sqrt(NumericKernels.Default.SumOfSquares(m)), 1e-30));
        var start = new float[d * d];
        System.Numerics.Tensors.TensorPrimitives.Multiply(m, scale, start);
        var errors = new float[d];
        lock (_gate)
        {
            using var x = _accelerator.Allocate1D(start);
            using var s = _accelerator.Allocate1D<float>((long)d * d);
            using var transposed = _accelerator.Allocate1D<float>((long)d * d);
            using var rowErrors = _accelerator.Allocate1D<float>(d);
            var iterations = OrthogonalAlignment.MaxIterations;
            for (var iteration = 0; iteration < OrthogonalAlignment.MaxIterations; iteration++)
            {
                Multiply(x.View, d, x.View, d, d, s.View);
                _identityStep(d, s.View, d, rowErrors.View);
                rowErrors.View.CopyToCPU(_accelerator.DefaultStream, errors.AsSpan());
                var error = MaxWithNaN(errors);
                if (float.IsNaN(error) || error < OrthogonalAlignment.Tolerance)
                {
                    iterations = float.IsNaN(error) ? OrthogonalAlignment.MaxIterations : iteration;
                    break;
                }

                _transpose(new Index2D(d, d), x.View, d, transposed.View);
                Multiply(s.View, d, transposed.View, d, d, x.View);
            }

            x.View.CopyToCPU(_accelerator.DefaultStream, q);
            return iterations;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var (_, device) in _anchors)
                device.Dispose();
            _anchors.Clear();
            _rows?.Dispose();
            _projection?.Dispose();
            _gram?.Dispose();
        }
    }

    private static float MaxWithNaN(float[] values)
    {
        var max = 0f;
        foreach (var value in values)
        {
            if (float.IsNaN(value))
                return value;
            max = Math.Max(max, value);
        }

        return max;
    }

    /// <summary>C (m×n) = A (m×k) · Bᵀ with B n×k; ceil(n/16) × ceil(m/16) groups of 16×16 threads.</summary>
    private void Multiply(ArrayView<float> a, int m, ArrayView<float> b, int n, int k, ArrayView<float> c)
    {
        var groups = new Index2D((n + Tile - 1) / Tile, (m + Tile - 1) / Tile);
        _multiply(new KernelConfig(groups, new Index2D(Tile, Tile)), a, b, m, n, k, c);
    }

    /// <summary>The device copy of an anchor matrix, uploaded once per tensor (the most recent <see cref="AnchorSlots"/> are kept).</summary>
    private ArrayView<float> AnchorsOnDevice(float[] anchors)
    {
        for (var node = _anchors.First; node is not null; node = node.Next)
        {
            if (ReferenceEquals(node.Value.Host, anchors))
            {
                _anchors.Remove(node);
                _anchors.AddFirst(node);
                return node.Value.Device.View;
            }
        }

        if (_anchors.Count == AnchorSlots)
        {
            _anchors.Last!.Value.Device.Dispose();
            _anchors.RemoveLast();
        }

        var device = _accelerator.Allocate1D(anchors);
        _anchors.AddFirst((anchors, device));
        return device.View;
    }

    private MemoryBuffer1D<float, Stride1D.Dense> Ensure(ref MemoryBuffer1D<float, Stride1D.Dense>? buffer, long length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = _accelerator.Allocate1D<float>(Math.Max(length, 1));
        }

        return buffer;
    }

    /// <summary>
    /// Each thread owns c[row, column]; the group walks k in 16-wide steps through two shared tiles. Out-of-range tile
    /// slots hold 0 and only ever meet other padding along k, so a NaN or ∞ in range propagates exactly as on the CPU.
    /// </summary>
    private static void MultiplyTransposedKernel(ArrayView<float> a, ArrayView<float> b, int m, int n, int k, ArrayView<float> c)
    {
        var left = SharedMemory.Allocate<float>(Tile * Tile);
        var right = SharedMemory.Allocate<float>(Tile * Tile);
        int tx = Group.IdxX, ty = Group.IdxY;
        var row = (Grid.IdxY * Tile) + ty;
        var column = (Grid.IdxX * Tile) + tx;
        var rightRow = (Grid.IdxX * Tile) + ty;
        var sum = 0f;
        for (var t0 = 0; t0 < k; t0 += Tile)
        {
            var t = t0 + tx;
            left[(ty * Tile) + tx] = row < m && t < k ? a[((long)row * k) + t] : 0f;
            right[(ty * Tile) + tx] = rightRow < n && t < k ? b[((long)rightRow * k) + t] : 0f;
            Group.Barrier();
            for (var u = 0; u < Tile; u++)
                sum += left[(ty * Tile) + u] * right[(tx * Tile) + u];
            Group.Barrier();
        }

        if (row < m && column < n)
            c[((long)row * n) + column] = sum;
    }

    /// <summary>Row i of S: errors[i] = max_j |S[i,j] − δ_ij| (NaN wins), then S ← 1.5·I − 0.5·S.</summary>
    private static void IdentityStepKernel(Index1D index, ArrayView<float> s, int d, ArrayView<float> errors)
    {
        int i = index;
        var error = 0f;
        for (var j = 0; j < d; j++)
        {
            var at = ((long)i * d) + j;
            var value = s[at];
            var deviation = value - (i == j ? 1f : 0f);
            deviation = deviation < 0 ? -deviation : deviation;
            error = float.IsNaN(deviation) || deviation > error ? deviation : error;
            s[at] = (i == j ? 1.5f : 0f) - (0.5f * value);
        }

        errors[i] = error;
    }

    private static void TransposeKernel(Index2D index, ArrayView<float> x, int d, ArrayView<float> result) =>
        result[((long)index.Y * d) + index.X] = x[((long)index.X * d) + index.Y];
}
