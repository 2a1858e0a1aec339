#!/usr/bin/env python3
"""The reference side of SonoSeg's throughput workload, beside ../shared/bench/torch_reference.py (read-only):
the same U-Net, the same timing and the same `WORKLOAD` lines, so ../shared/bench/compare.py takes this file as
its REFERENCE_PY:

  ../shared/bench/compare.py .build/release/sonoseg python3 scripts/ort_bench.py \
      --workloads unet-infer-b8,unet-infer-b8-ort --check unet-infer-b8:unet-infer-b8-ort:1.0

Workloads: every workload of torch_reference.py (run by it), and
  unet-infer-b8       the eval-mode U-Net of unet-infer at batch 8 x 1 x 256 x 256 in PyTorch (throughput)
  unet-infer-b8-ort   the same network exported from PyTorch (opset 17) and run by ONNX Runtime with all graph
                      optimisations on the same threads, batch 8 (the counterpart of unet-infer-ort)
Warm-up 3, then --runs timed runs (SonoSeg's `bench unet-infer-b8` does the same).
Needs torch, onnx, onnxruntime. ONNX Runtime picks its kernels by CPUID: compare.py's --isa caps oneDNN and
PyTorch's ATen, not ONNX Runtime.
"""
import argparse, io, os, sys, warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.environ.get("SONOSEG_REFERENCE_DIR", os.path.join(HERE, "..", "..", "shared", "bench")))
import torch  # noqa: E402
import torch_reference as ref  # noqa: E402


def unet_infer_b8(args):
    net = ref.UNet().eval()
    x = torch.randn(8, 1, 256, 256)

    def step():
        with torch.no_grad():
            net(x)
    ref.report("unet-infer-b8", ref.timed(step, 3, args.runs))


def unet_infer_b8_ort(args):
    import onnxruntime as ort
    net = ref.UNet().eval()
    x = torch.randn(8, 1, 256, 256)
    buf = io.BytesIO()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    torch.onnx.export(net, (x,), buf, input_names=["image"], output_names=["logits"], opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])
    feed = {"image": x.numpy()}
    ref.report("unet-infer-b8-ort", ref.timed(lambda: session.run(None, feed), 3, args.runs))


WORKLOADS = dict(ref.WORKLOADS, **{"unet-infer-b8": unet_infer_b8, "unet-infer-b8-ort": unet_infer_b8_ort})

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="*", choices=[[]] + list(WORKLOADS), default=[])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"cpu capability {torch.backends.cpu.get_cpu_capability()}", file=sys.stderr)
    for name in args.workloads or ["unet-infer-b8", "unet-infer-b8-ort"]:
        WORKLOADS[name](args)
