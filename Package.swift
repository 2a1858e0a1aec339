// swift-tools-version:6.0
// SonoSeg: breast-ultrasound lesion segmentation and diagnosis.
// Layers, each a target whose imports point only downward (no re-exports: a target imports what it uses and
// lists it here):
//   sonoseg (CLI) → SonoTools, SonoRegistry → the families SonoDiagnosis, SonoImplicit, SonoConvNets
//                 → SonoPipeline (the run core) → SonoModels → SonoNN → SonoTensor → SonoKernels → COneDNN, CVectorKernels
//                   SonoPipeline → SonoMetrics → SonoImaging
//                   SonoPipeline → SonoData → SonoImaging → CImageCodecs, CDicom
//   SonoBase (seeded RNG, atomic files, JSON/JSON-lines, CSV) sits under all of them.
import PackageDescription

/// Code is compiled for a fixed baseline, never for the CPU that builds it, so a binary or a `.build` folder
/// made on one machine runs on any other of its architecture: x86-64-v3 (AVX2, FMA, F16C: Intel Haswell and
/// AMD Zen onwards) on x86_64, the platform default elsewhere. The element-wise kernels' 16-lane SIMD then runs
/// as two AVX2 halves; what AVX-512 brings comes from oneDNN (convolutions, matmul, batch norm, pooling), which
/// picks its kernels at run time (`CPUPlatform`), and from CVectorKernels (the Gabor activation), whose 16-lane
/// variant is chosen at run time (`VectorKernels`).
#if arch(x86_64)
let baseline: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]
let cBaseline: [CSetting] = [.unsafeFlags(["-O3", "-march=x86-64-v3"])]
#else
let baseline: [SwiftSetting] = []
let cBaseline: [CSetting] = [.unsafeFlags(["-O3"])]
#endif
/// The library targets are optimised in every configuration, so `swift test` runs the real training steps in
/// seconds (unoptimised Swift is ~10x slower), and with `-O`, not `-Ounchecked`: preconditions stay, and a shape
/// check that names the problem in a test still names it for a user. Measured cost against `-Ounchecked`
/// (README, "How it is built"): within the run-to-run noise.
let optimized: [SwiftSetting] = [.unsafeFlags(["-O"])] + baseline
let swift5: [SwiftSetting] = [.swiftLanguageMode(.v5)]

let package = Package(
    name: "SonoSeg",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sonoseg", targets: ["sonoseg"]),
        .executable(name: "sonoseg-libfuzzer", targets: ["sonoseg-libfuzzer"]),
        // The reading room (`sonoseg serve`): its own product, so `make demo` never builds SwiftNIO (`make serve`).
        .executable(name: "sonoseg-serve", targets: ["sonoseg-serve"]),
        .library(name: "SonoPipeline", targets: ["SonoPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The server alone uses these (SonoServe, sonoseg-serve).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(name: "COneDNN", path: "Sources/COneDNN"),
        // Compiled for the generic x86-64 baseline: names a CPU below x86-64-v3 before any AVX2 code runs.
        .target(name: "CCPUCheck", path: "Sources/CCPUCheck"),
        // Open MPI for `train --distributed`, loaded with dlopen at run time: no mpi.h at build time, no MPI
        // package for `make demo` (libmpi.so.40 comes with Debian's openmpi-bin).
        .target(name: "CMPI", path: "Sources/CMPI", exclude: ["README.md"], cSettings: [.unsafeFlags(["-O2"])],
                linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread")]),
        .target(name: "CDicom", path: "Sources/CDicom", cxxSettings: [.unsafeFlags(["-O2"])],
                linkerSettings: ["dcmseg", "dcmfg", "dcmiod", "cmr", "dcmsr", "dcmimage", "dcmimgle", "dcmjpeg", "dcmjpls", "dcmdata", "oflog", "ofstd"].map { .linkedLibrary($0) }),
        .target(name: "CImageCodecs", path: "Sources/CImageCodecs",
                cSettings: [.unsafeFlags(["-O2"])],
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg"), .linkedLibrary("tiff")]),

        // MARK: - Utilities every layer shares
        .target(name: "SonoBase", exclude: ["README.md"], swiftSettings: swift5 + optimized),

        // MARK: - Engine
        // Hot element-wise kernels compiled once per vector width (AVX-512 or the baseline), chosen at run time.
        .target(name: "CVectorKernels", path: "Sources/CVectorKernels", cSettings: cBaseline),
        .target(name: "SonoKernels", dependencies: ["COneDNN", "CVectorKernels"], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        .target(name: "SonoTensor", dependencies: ["SonoKernels", "SonoBase"], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        .target(name: "SonoNN", dependencies: ["SonoTensor", "SonoBase"], exclude: ["README.md"], swiftSettings: swift5 + optimized),

        // MARK: - Images and data
        .target(name: "SonoImaging", dependencies: ["CImageCodecs", "CDicom", "SonoBase"], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        .target(name: "SonoData", dependencies: ["SonoImaging", "SonoBase"], exclude: ["README.md"], swiftSettings: swift5 + optimized),

        // MARK: - Metrics: Dice & co, measurements, calibration, bootstrap CIs; no model, no pipeline
        .target(name: "SonoMetrics", dependencies: ["SonoImaging", "SonoBase"], exclude: ["README.md"], swiftSettings: swift5 + optimized),

        // MARK: - Models, pipeline, CLI
        .target(name: "SonoModels", dependencies: ["SonoNN", "SonoTensor", "SonoBase"], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        .target(name: "SonoPipeline", dependencies: [
            "CMPI", "SonoMetrics", "SonoModels", "SonoNN", "SonoTensor", "SonoData", "SonoImaging", "SonoBase",
        ],
                exclude: ["README.md"], swiftSettings: swift5 + optimized),
        // Model families above the run core. Convolutional networks: the U-Net (Duffy, Li) and the classifiers
        // and task networks (Jimenez & Xu), which share one model-file format (`ModelInfo`, `LoadedModel`).
        .target(name: "SonoConvNets", dependencies: [
            "SonoPipeline", "SonoMetrics", "SonoModels", "SonoNN", "SonoTensor", "SonoData", "SonoImaging", "SonoBase",
        ], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        // Implicit networks (NISF, Byra).
        .target(name: "SonoImplicit", dependencies: [
            "SonoPipeline", "SonoMetrics", "SonoModels", "SonoNN", "SonoTensor", "SonoData", "SonoImaging", "SonoBase",
        ], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        // The diagnosis family: lesion presence, benign/malignant and BI-RADS from the bundle in models/diagnosis.
        .target(name: "SonoDiagnosis", dependencies: [
            "SonoConvNets", "SonoPipeline", "SonoMetrics", "SonoModels", "SonoNN", "SonoTensor", "SonoData", "SonoImaging", "SonoBase",
        ], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        // Where the families meet: the closed `Recipe` enum and `loadSegmenter` over every model file.
        .target(name: "SonoRegistry", dependencies: ["SonoImplicit", "SonoConvNets", "SonoPipeline", "SonoData"],
                exclude: ["README.md"], swiftSettings: swift5 + optimized),
        // ONNX export (`sonoseg export --format onnx`): its own protobuf writer; above the convolutional family.
        .target(name: "SonoONNX", dependencies: [
            "SonoConvNets", "SonoPipeline", "SonoModels", "SonoNN", "SonoTensor", "SonoData", "SonoImaging", "SonoBase",
        ], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        // Benchmarks, the kernel check and the fuzzer: tools over the pipeline, never under it.
        .target(name: "SonoTools", dependencies: [
            "SonoRegistry", "SonoConvNets", "SonoPipeline", "SonoMetrics", "SonoModels", "SonoNN", "SonoTensor", "SonoData", "SonoImaging", "SonoBase",
        ], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        .executableTarget(name: "sonoseg", dependencies: [
            "CCPUCheck", "SonoTools", "SonoONNX", "SonoRegistry", "SonoDiagnosis", "SonoImplicit", "SonoConvNets", "SonoPipeline", "SonoMetrics", "SonoModels", "SonoNN", "SonoTensor", "SonoData", "SonoImaging", "SonoBase",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        // The reading room: an HTTP API and a browser workstation over one loaded Segmenter (docs/serve.md).
        .target(name: "SonoServe", dependencies: [
            "SonoRegistry", "SonoDiagnosis", "SonoPipeline", "SonoMetrics", "SonoImaging", "SonoBase",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ], exclude: ["README.md"], resources: [.copy("Web")], swiftSettings: swift5 + optimized),
        .executableTarget(name: "sonoseg-serve", dependencies: [
            "CCPUCheck", "SonoServe", "SonoPipeline", "SonoBase",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"], swiftSettings: swift5 + optimized),
        // libFuzzer target (`make libfuzzer`); a plain build replays files given as arguments (CFuzzMain).
        .target(name: "CFuzzMain", path: "Sources/CFuzzMain"),
        .executableTarget(name: "sonoseg-libfuzzer", dependencies: ["CFuzzMain", "SonoTools", "SonoPipeline", "SonoImaging"],
                          exclude: ["README.md"], swiftSettings: swift5 + optimized + [.unsafeFlags(["-parse-as-library"])]),

        // MARK: - Tests
        // Helpers every test target shares (finite-difference gradient checks, PyTorch golden files).
        .target(name: "SonoTestSupport", dependencies: ["SonoTensor", "SonoBase"], path: "Tests/Support", swiftSettings: swift5),
        .testTarget(name: "SonoTensorTests", dependencies: ["SonoBase", "SonoTestSupport", "SonoTensor"], resources: [.copy("Fixtures")],
                    swiftSettings: swift5),
        .testTarget(name: "SonoNNTests", dependencies: ["SonoBase", "SonoTestSupport", "SonoNN"], resources: [.copy("Fixtures")],
                    swiftSettings: swift5),
        .testTarget(name: "SonoImagingTests", dependencies: ["SonoBase", "SonoImaging"], resources: [.copy("Fixtures")],
                    swiftSettings: swift5),
        .testTarget(name: "SonoDataTests", dependencies: ["SonoBase", "SonoData"], swiftSettings: swift5),
        .testTarget(name: "SonoPipelineTests", dependencies: ["SonoConvNets", "SonoBase", "SonoMetrics", "SonoPipeline", "SonoDiagnosis", "SonoRegistry", "SonoTools"], swiftSettings: swift5),
        .testTarget(name: "SonoServeTests", dependencies: ["SonoServe", "SonoPipeline", "SonoData", "SonoImaging", "SonoBase", .product(name: "Hummingbird", package: "hummingbird")], swiftSettings: swift5),
        .testTarget(name: "SonoONNXTests", dependencies: ["SonoONNX"], swiftSettings: swift5),
        .testTarget(name: "SonoModelsTests", dependencies: ["SonoBase", "SonoModels"], swiftSettings: swift5),
        .testTarget(name: "sonosegTests", dependencies: ["SonoConvNets", "SonoBase", "SonoMetrics", "SonoTools", "SonoRegistry", "SonoDiagnosis", "SonoImplicit", "sonoseg"], swiftSettings: swift5),
        .testTarget(name: "SonoImplicitTests", dependencies: ["SonoConvNets", "SonoBase", "SonoTestSupport", "SonoMetrics", "SonoPipeline", "SonoImplicit"], swiftSettings: swift5),
        .testTarget(name: "SonoClassifyTests", dependencies: ["SonoConvNets", "SonoBase", "SonoTestSupport", "SonoMetrics", "SonoPipeline", "SonoDiagnosis", "SonoRegistry"], swiftSettings: swift5),
    ]
)
