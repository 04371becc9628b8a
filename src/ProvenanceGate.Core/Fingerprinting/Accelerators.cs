using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ProvenanceGate.Diagnostics;

namespace ProvenanceGate.Fingerprinting;

/// <summary>Where fingerprinting runs its dense kernels. <see cref="IlgpuCpu"/> is ILGPU's CPU emulator: for tests only (slow).</summary>
public enum AcceleratorKind
{
    Auto,
    Cpu,
    Cuda,
    OpenCL,
    IlgpuCpu,
}

/// <summary>A chosen backend: its kernels, the name recorded in fingerprint files, and the device in words.</summary>
public sealed record ComputeAccelerator(string Name, ILinearAlgebraKernels Kernels, string Device)
{
    private static readonly AsyncLocal<ComputeAccelerator?> Ambient = new();

    public static ComputeAccelerator Cpu { get; } = new("cpu", LinearAlgebraKernels.Default, "SIMD on the CPU");

    /// <summary>The accelerator in use on this logical thread and the tasks it starts (the fingerprinter's workers); <see cref="Cpu"/> unless one was chosen.</summary>
    public static ComputeAccelerator Current => Ambient.Value ?? Cpu;

    /// <summary>
    /// Makes this accelerator <see cref="Current"/> until the result is disposed. Scoped to the execution context rather
    /// than the process, so that concurrent callers (tests, MSBuild nodes) do not interfere.
    /// </summary>
    public IDisposable Use()
    {
        var previous = Ambient.Value;
        Ambient.Value = this;
        return new Restore(() => Ambient.Value = previous);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}

/// <summary>
/// Implemented by ProvenanceGate.Accelerators.Ilgpu, which Core finds by name and loads only when a GPU is asked for
/// or its driver is found: the CPU path (and the MSBuild task without a GPU) never loads ILGPU.
/// </summary>
public interface IAcceleratorBackend
{
    /// <summary>The accelerator of that kind, or null when ILGPU finds no such device.</summary>
    ComputeAccelerator? Create(AcceleratorKind kind);
}

/// <summary>
/// Resolves <c>--accelerator</c> / <c>PROVENANCEGATE_ACCELERATOR</c> / <c>ProvenanceGateAccelerator</c> to a backend.
/// <c>auto</c> asks the CUDA driver, then OpenCL, for a GPU through their C APIs (no ILGPU), loads the ILGPU backend
/// only when one answers, and falls back to the SIMD CPU path with one notice when that backend fails. An explicit
/// <c>cuda</c>/<c>opencl</c> without such a GPU is PG3050.
/// </summary>
public static class AcceleratorSelector
{
    public const string EnvironmentVariable = "PROVENANCEGATE_ACCELERATOR";

    internal const string BackendAssemblyName = "ProvenanceGate.Accelerators.Ilgpu";
    internal const string BackendTypeName = "ProvenanceGate.Accelerators.Ilgpu.IlgpuBackend";

    /// <summary>The names users see; <c>ilgpu-cpu</c> is accepted too but documented as for tests.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "cpu", "cuda", "opencl"];

    // One device context per kind and process: creating one compiles the kernels (hundreds of ms on a GPU).
    private static readonly ConcurrentDictionary<AcceleratorKind, Lazy<ComputeAccelerator?>> Created = new();

    public static AcceleratorKind Parse(string? name, string origin) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => AcceleratorKind.Auto,
        "cpu" => AcceleratorKind.Cpu,
        "cuda" => AcceleratorKind.Cuda,
        "opencl" => AcceleratorKind.OpenCL,
        "ilgpu-cpu" => AcceleratorKind.IlgpuCpu,
        _ => throw Diagnostics.Diagnostics.AcceleratorUnknown.Exception($"{origin}: unknown accelerator '{name}'; use one of {string.Join(", ", Names)}"),
    };

    /// <summary>The option when given, else <see cref="EnvironmentVariable"/>, else auto.</summary>
    public static AcceleratorKind Resolve(string? requested, string origin = "--accelerator")
    {
        if (!string.IsNullOrWhiteSpace(requested))
            return Parse(requested, origin);
        return Parse(Environment.GetEnvironmentVariable(EnvironmentVariable), EnvironmentVariable);
    }

    /// <param name="notice">Receives the one PG3051 line when a GPU driver answers but its backend cannot be used.</param>
    public static ComputeAccelerator Select(AcceleratorKind kind, Action<Diagnostic> notice) => Select(kind, notice, NativeGpuProbe.HasGpu);

    /// <param name="gpuDriverAnswers">Whether a GPU of the kind answers its driver (without ILGPU); tests play other machines with it.</param>
    internal static ComputeAccelerator Select(AcceleratorKind kind, Action<Diagnostic> notice, Func<AcceleratorKind, bool> gpuDriverAnswers)
    {
        switch (kind)
        {
            case AcceleratorKind.Cpu:
                return ComputeAccelerator.Cpu;
            case AcceleratorKind.Auto:
                foreach (var gpu in (AcceleratorKind[])[AcceleratorKind.Cuda, AcceleratorKind.OpenCL])
                {
                    if (!gpuDriverAnswers(gpu))
                        continue;
                    try
                    {
                        if (Create(gpu) is { } found)
                            return found;
                        notice(Diagnostics.Diagnostics.AcceleratorFallback.Info($"the {Describe(gpu)} driver reports a GPU, but ILGPU found none it can use; fingerprinting with SIMD on the CPU"));
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        notice(Diagnostics.Diagnostics.AcceleratorFallback.Info($"the {Describe(gpu)} GPU could not be used ({Inner(ex).Message}); fingerprinting with SIMD on the CPU"));
                    }

                    return ComputeAccelerator.Cpu;
                }

                return ComputeAccelerator.Cpu;
            default:
                if (kind != AcceleratorKind.IlgpuCpu && !gpuDriverAnswers(kind))
                    throw Unavailable(kind, $"no {Describe(kind)} driver with a GPU was found");
                try
                {
                    return Create(kind) ?? throw Unavailable(kind, "ILGPU found no such device");
                }
                catch (Exception ex) when (ex is not ProvenanceException and not OutOfMemoryException)
                {
                    throw Unavailable(kind, Inner(ex).Message);
                }
        }
    }

    /// <summary>The name a kind is given on the command line.</summary>
    public static string NameOf(AcceleratorKind kind) => kind == AcceleratorKind.IlgpuCpu ? "ilgpu-cpu" : kind.ToString().ToLowerInvariant();

    private static ProvenanceException Unavailable(AcceleratorKind kind, string why) =>
        Diagnostics.Diagnostics.AcceleratorUnavailable.Exception($"accelerator '{NameOf(kind)}' was asked for, but {why}; use auto (falls back to the CPU) or cpu");

    private static string Describe(AcceleratorKind kind) => kind == AcceleratorKind.Cuda ? "CUDA" : "OpenCL";

    private static Exception Inner(Exception ex) => ex is TargetInvocationException { InnerException: { } inner } ? inner : ex;

    private static ComputeAccelerator? Create(AcceleratorKind kind) =>
        Created.GetOrAdd(kind, k => new Lazy<ComputeAccelerator?>(() => LoadBackend().Create(k))).Value;

    /// <summary>
    /// The backend assembly, loaded into Core's own load context (MSBuild gives each task folder one) so that it binds to
    /// this Core and finds ILGPU.dll beside it.
    /// </summary>
    private static IAcceleratorBackend LoadBackend()
    {
        var context = AssemblyLoadContext.GetLoadContext(typeof(AcceleratorSelector).Assembly) ?? AssemblyLoadContext.Default;
        Assembly assembly;
        try
        {
            assembly = context.LoadFromAssemblyName(new AssemblyName(BackendAssemblyName));
        }
        catch (FileNotFoundException)
        {
            // A host that does not resolve it by name (no deps.json entry): the file beside Core.
            var directory = Path.GetDirectoryName(typeof(AcceleratorSelector).Assembly.Location);
            var path = Path.Combine(string.IsNullOrEmpty(directory) ? AppContext.BaseDirectory : directory, BackendAssemblyName + ".dll");
            if (!File.Exists(path))
                throw new FileNotFoundException($"the GPU backend ({BackendAssemblyName}.dll) is not installed beside ProvenanceGate.Core");
            assembly = context.LoadFromAssemblyPath(path);
        }

        var type = assembly.GetType(BackendTypeName, throwOnError: true)!;
        return (IAcceleratorBackend)Activator.CreateInstance(type)!;
    }
}

/// <summary>
/// Asks the CUDA driver API (cuInit, cuDeviceGetCount) or the OpenCL ICD loader (clGetPlatformIDs, clGetDeviceIDs for
/// GPU devices) whether there is a GPU, through function pointers: no ILGPU, and nothing loaded when the library is absent.
/// An OpenCL loader with no GPU platform (common: ocl-icd without a vendor driver) is "no GPU", not a broken driver.
/// </summary>
internal static unsafe class NativeGpuProbe
{
    private const ulong OpenClGpuDevices = 1 << 2;

    public static bool HasGpu(AcceleratorKind kind)
    {
        try
        {
            return kind switch
            {
                AcceleratorKind.Cuda => HasCudaGpu(),
                AcceleratorKind.OpenCL => HasOpenClGpu(),
                _ => false,
            };
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    private static bool HasCudaGpu()
    {
        string[] names = OperatingSystem.IsWindows() ? ["nvcuda.dll"] : OperatingSystem.IsLinux() ? ["libcuda.so.1", "libcuda.so"] : [];
        if (!TryLoad(names, out var library))
            return false;
        if (!NativeLibrary.TryGetExport(library, "cuInit", out var init) || !NativeLibrary.TryGetExport(library, "cuDeviceGetCount", out var getCount))
            return false;
        if (((delegate* unmanaged<uint, int>)init)(0) != 0)
            return false;
        var count = 0;
        return ((delegate* unmanaged<int*, int>)getCount)(&count) == 0 && count > 0;
    }

    private static bool HasOpenClGpu()
    {
        string[] names = OperatingSystem.IsWindows() ? ["OpenCL.dll"]
            : OperatingSystem.IsMacOS() ? ["/System/Library/Frameworks/OpenCL.framework/OpenCL"]
            : ["libOpenCL.so.1", "libOpenCL.so"];
        if (!TryLoad(names, out var library))
            return false;
        if (!NativeLibrary.TryGetExport(library, "clGetPlatformIDs", out var getPlatforms) || !NativeLibrary.TryGetExport(library, "clGetDeviceIDs", out var getDevices))
            return false;
        var platformCount = 0u;
        if (((delegate* unmanaged<uint, nint*, uint*, int>)getPlatforms)(0, null, &platformCount) != 0 || platformCount == 0)
            return false;
        var platforms = new nint[Math.Min(platformCount, 64)];
        fixed (nint* list = platforms)
        {
            if (((delegate* unmanaged<uint, nint*, uint*, int>)getPlatforms)((uint)platforms.Length, list, null) != 0)
                return false;
        }

        foreach (var platform in platforms)
        {
            var devices = 0u;
            if (((delegate* unmanaged<nint, ulong, uint, nint*, uint*, int>)getDevices)(platform, OpenClGpuDevices, 0, null, &devices) == 0 && devices > 0)
                return true;
        }

        return false;
    }

    private static bool TryLoad(string[] names, out nint library)
    {
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, out library))
                return true;
        }

        library = 0;
        return false;
    }
}
