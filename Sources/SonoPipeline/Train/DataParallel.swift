import CMPI
import Foundation
import SonoNN
import SonoTensor

/// The ranks of an MPI job training one model data-parallel (`sonoseg train --distributed` under `mpirun`).
/// Open MPI is reached through CMPI, which dlopen()s libmpi.so.40 at run time: building SonoSeg needs no MPI
/// headers, and a process that never asks for `--distributed` never loads MPI.
///
/// What a rank does (docs/scale-out.md, "Data-parallel training"): it loads its contiguous share of every
/// global batch (`BatchLoader.split`), computes the gradient of its share's mean loss, and `averageGradients`
/// turns those into the gradient of the whole batch's mean loss (each rank's weighted by its image count, summed
/// with `MPI_Allreduce` in fixed buckets); every rank then takes the same optimizer step. Rank 0's weights are
/// broadcast at the start and after every epoch, so the ranks never drift apart.
public final class ProcessGroup {
    /// The job this process belongs to; nil when it trains alone.
    public nonisolated(unsafe) static var current: ProcessGroup?

    public let rank: Int
    public let size: Int
    public var isLeader: Bool { rank == 0 }
    /// Floats per allreduce bucket (gradients are concatenated in parameter order into buffers of at most this
    /// many): 4 Mi floats, 16 MiB. Fixed, so the sums are reproducible from run to run.
    public static let bucketFloats = 1 << 22
    /// Seconds spent in collectives (allreduce, broadcast) since the last `takeCommunicationSeconds`.
    public private(set) var communicationSeconds = 0.0

    private init(rank: Int, size: Int) { (self.rank, self.size) = (rank, size) }

    /// Joins the MPI job this process was started in. Fails outside `mpirun` (no `OMPI_COMM_WORLD_SIZE`), or when
    /// libmpi cannot be loaded. `timeout` (seconds; 0: none; `train --mpi-timeout`) bounds any one collective: a
    /// rank that waits longer names itself and exits, and mpirun ends the job.
    public static func start(timeout: Double = 600) throws -> ProcessGroup {
        let env = ProcessInfo.processInfo.environment
        guard let sizeText = env["OMPI_COMM_WORLD_SIZE"], let expected = Int(sizeText) else {
            let other = env["PMI_SIZE"] != nil ? " (this looks like MPICH or Slurm's PMI: SonoSeg speaks Open MPI only)" : ""
            throw PipelineError.invalidConfig("--distributed needs Open MPI's mpirun: no OMPI_COMM_WORLD_SIZE in the environment\(other). "
                + "Run `mpirun -n R sonoseg train RECIPE --distributed --out RUN`, or leave out --distributed to train in one process")
        }
        var error = [CChar](repeating: 0, count: 512)
        guard sono_mpi_load(&error, error.count) == 0 else {
            throw PipelineError.invalidConfig("--distributed: " + String(cString: error))
        }
        var rank: Int32 = 0, size: Int32 = 0
        let rc = sono_mpi_init(&rank, &size)
        guard rc == 0 else { throw PipelineError.invalidConfig("--distributed: MPI_Init failed (error \(rc))") }
        guard Int(size) == expected else {
            throw PipelineError.invalidConfig("--distributed: MPI says \(size) ranks, OMPI_COMM_WORLD_SIZE \(expected)")
        }
        sono_mpi_set_timeout(timeout)
        let group = ProcessGroup(rank: Int(rank), size: Int(size))
        current = group
        return group
    }

    /// MPI_Finalize: ends this rank's part in the job.
    public func finish() {
        _ = sono_mpi_finalize()
        if ProcessGroup.current === self { ProcessGroup.current = nil }
    }

    /// Ends every rank of the job (a rank that cannot go on).
    public func abort(_ code: Int32 = 1) -> Never {
        sono_mpi_abort(code)
        exit(code)
    }

    private func check(_ rc: Int32, _ what: String) {
        guard rc == 0 else {
            FileHandle.standardError.write("sonoseg: rank \(rank): \(what) failed (MPI error \(rc)); ending the job\n".data(using: .utf8)!)
            abort(70)
        }
    }

    public func takeCommunicationSeconds() -> Double { defer { communicationSeconds = 0 }; return communicationSeconds }
    private func timed(_ body: () -> Void) { body(); communicationSeconds += sono_mpi_take_seconds() }

    /// Sums `values` over the ranks, in place (every rank gets the sum).
    public func allreduce(_ values: inout [Float]) {
        timed { values.withUnsafeMutableBufferPointer { check(sono_mpi_allreduce_float($0.baseAddress, $0.count), "MPI_Allreduce") } }
    }
    public func allreduce(_ values: inout [Double]) {
        timed { values.withUnsafeMutableBufferPointer { check(sono_mpi_allreduce_double($0.baseAddress, $0.count), "MPI_Allreduce") } }
    }
    /// Sums `values` and makes rank 0's result everyone's, so a decision made from them (best epoch, early
    /// stop) is the same on every rank whatever order the reduction added in.
    public func agreedSum(_ values: [Double]) -> [Double] {
        var v = values
        allreduce(&v)
        var f = v.flatMap { d -> [Float] in let b = d.bitPattern; return [Float(bitPattern: UInt32(b >> 32)), Float(bitPattern: UInt32(b & 0xffff_ffff))] }
        broadcast(&f)
        return stride(from: 0, to: f.count, by: 2).map { Double(bitPattern: UInt64(f[$0].bitPattern) << 32 | UInt64(f[$0 + 1].bitPattern)) }
    }
    /// Rank `root`'s values everywhere.
    public func broadcast(_ values: inout [Float], root: Int = 0) {
        timed { values.withUnsafeMutableBufferPointer { check(sono_mpi_bcast_float($0.baseAddress, $0.count, Int32(root)), "MPI_Bcast") } }
    }
    public func barrier() { timed { check(sono_mpi_barrier(), "MPI_Barrier") } }

    // MARK: Tensors

    /// Tensors → buckets of at most `bucketFloats` values, in the order given (a tensor never splits).
    private static func buckets(_ tensors: [Tensor]) -> [Range<Int>] {
        var out: [Range<Int>] = [], start = 0, floats = 0
        for (i, t) in tensors.enumerated() {
            if floats > 0 && floats + t.count > bucketFloats { out.append(start..<i); (start, floats) = (i, 0) }
            floats += t.count
        }
        if start < tensors.count { out.append(start..<tensors.count) }
        return out
    }

    /// Makes each rank's gradients of its share's mean loss (over `localCount` images) the gradient of the
    /// global batch's mean loss: g = Σ_r n_r g_r / Σ_r n_r, summed with one MPI_Allreduce per bucket (the
    /// parameters' fixed order; a parameter without a gradient counts as zeros). `localMeans` (the share's mean
    /// losses) ride in the first bucket; returns the global batch's image count and mean losses.
    /// Exact for losses that are means over images (every segmentation loss but Dice/Tversky with
    /// `emptyMasks: exclude`, unweighted cross-entropy); a class-weighted cross-entropy, normalised by the
    /// batch's total weight, is weighted here by image count instead.
    @discardableResult
    public func averageGradients(_ parameters: [(String, Tensor)], localCount: Int, localMeans: [Float] = []) -> (count: Int, means: [Float]) {
        let tensors = parameters.map(\.1)
        var count = 0, means: [Float] = []
        let n = Float(localCount), head = 1 + localMeans.count
        for (b, range) in Self.buckets(tensors).enumerated() {
            var flat: [Float] = []
            flat.reserveCapacity(tensors[range].reduce(b == 0 ? head : 0) { $0 + $1.count })
            if b == 0 { flat += [n] + localMeans.map { $0 * n } }
            for t in tensors[range] {
                if let g = t.grad, localCount > 0 { g.withPlainValues { v in flat += v.map { $0 * n } } }
                else { flat += repeatElement(0, count: t.count) }
            }
            allreduce(&flat)
            var at = 0
            if b == 0 {
                count = Int(flat[0].rounded())
                means = flat[1..<head].map { count > 0 ? $0 / flat[0] : 0 }
                at = head
            }
            let scale = count > 0 ? 1 / Float(count) : 0
            for t in tensors[range] {
                t.grad = Tensor(flat[at..<(at + t.count)].map { $0 * scale }, shape: t.shape)
                at += t.count
            }
        }
        return (count, means)
    }

    /// Rank 0's values of `tensors` (weights, buffers) on every rank, bucketed like the gradients.
    public func broadcast(_ tensors: [Tensor]) {
        for range in Self.buckets(tensors) {
            var flat: [Float] = []
            if isLeader { for t in tensors[range] { t.withPlainValues { flat += $0 } } }
            else { flat = [Float](repeating: 0, count: tensors[range].reduce(0) { $0 + $1.count }) }
            broadcast(&flat)
            var at = 0
            for t in tensors[range] {
                t.assign(Tensor(Array(flat[at..<(at + t.count)]), shape: t.shape))
                at += t.count
            }
        }
    }

    /// The mean over ranks of `tensors` (batch-norm running statistics, which each rank gathers from its own
    /// share), in place on every rank.
    public func average(_ tensors: [Tensor]) {
        for range in Self.buckets(tensors) {
            var flat: [Float] = []
            for t in tensors[range] { t.withPlainValues { flat += $0 } }
            allreduce(&flat)
            let scale = 1 / Float(size)
            var at = 0
            for t in tensors[range] {
                t.assign(Tensor(flat[at..<(at + t.count)].map { $0 * scale }, shape: t.shape))
                at += t.count
            }
        }
    }

    /// End of an epoch: batch-norm statistics averaged over ranks, then rank 0's weights and buffers everywhere
    /// (identical already up to how each rank's MPI added; this makes them identical bit for bit).
    public func synchronise(_ module: Module) {
        let buffers = module.namedBuffers().map(\.1)
        if !buffers.isEmpty { average(buffers) }
        broadcast(module.stateDict().map(\.1))
    }
}

/// Starts a run's folder on rank 0 only (the folder lock, `config.json`); other ranks get nil. One process:
/// `begin` as it is. `speaks` says whether this process writes the log (rank 0, or a lone process).
public func beginRun<Lock>(_ run: RunFolder, log: (String) -> Void, begin: () throws -> Lock) throws -> (lock: Lock?, speaks: Bool) {
    guard let group = ProcessGroup.current else { return (try begin(), true) }
    guard group.isLeader else { return (nil, false) }
    log("data-parallel: \(group.size) ranks, each with \(Engine.threads) thread(s); the global batch is split across them")
    return (try begin(), true)
}

/// Reads the run's data: rank 0 first (it writes any split file the recipe does not name), then the other
/// ranks, which find that split (on a shared file system) or make the same one from the same seed.
public func prepareData<D>(log: (String) -> Void, _ prepare: () throws -> D) throws -> D {
    guard let group = ProcessGroup.current else { return try prepare() }
    if group.isLeader {
        let data = try prepare()
        group.barrier()
        return data
    }
    group.barrier()
    return try prepare()
}
