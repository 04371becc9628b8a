using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using ProvenanceGate.Fingerprinting;

namespace ProvenanceGate.Accelerators.Ilgpu;

/// <summary>
/// Found by name by <see cref="AcceleratorSelector"/>: creates the ILGPU context for one kind of device. The context
/// and accelerator live as long as the process (Core caches one per kind), so the kernels compile once.
/// </summary>
public sealed class IlgpuBackend : IAcceleratorBackend
{
    /// <summary>ILGPU's CPU emulator shaped to run one 16×16 product tile per group (its default device allows 16 threads).</summary>
    public static CPUDevice EmulatedDevice { get; } = new(numThreadsPerWarp: IlgpuKernels.Tile, numWarpsPerMultiprocessor: IlgpuKernels.Tile, numMultiprocessors: 1);

    public ComputeAccelerator? Create(AcceleratorKind kind)
    {
        // IEEE float semantics (no fast math): results must match the CPU path within the documented tolerance.
        var context = Context.Create(builder =>
        {
            var configured = kind switch
            {
                AcceleratorKind.Cuda => builder.Cuda(),
                // Only GPUs: an OpenCL CPU device (pocl) is slower than the SIMD path it would replace.
                AcceleratorKind.OpenCL => builder.OpenCL(device => device.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU),
                AcceleratorKind.IlgpuCpu => builder.CPU(EmulatedDevice),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not an ILGPU accelerator"),
            };
            configured.Optimize(OptimizationLevel.O1);
        });
        var device = context.Devices.FirstOrDefault(d => d.AcceleratorType == (kind switch
        {
            AcceleratorKind.Cuda => AcceleratorType.Cuda,
            AcceleratorKind.OpenCL => AcceleratorType.OpenCL,
            _ => AcceleratorType.CPU,
        }));
        if (device is null)
        {
            context.Dispose();
            return null;
        }

        var accelerator = device.CreateAccelerator(context);
        var name = AcceleratorSelector.NameOf(kind);
        return new ComputeAccelerator(name, new IlgpuKernels(accelerator), $"{device.Name} via ILGPU ({accelerator.AcceleratorType}, {accelerator.MemorySize >> 20} MiB)");
    }
}
