import Foundation

/// One part of a `segment` job split over machines (`--shard I/N`): input k belongs to shard
/// FNV-1a-64(its relative path) mod N, so the same tree gives every machine the same parts whatever order its
/// file system lists them in, and a file added later moves no other file to another shard.
public struct Shard: Codable, Sendable, Equatable, CustomStringConvertible {
    /// 0-based.
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, count <= 100_000, (0..<count).contains(index) else {
            throw PipelineError.invalidConfig("a shard is I/N with 0 ≤ I < N ≤ 100000, got \(index)/\(count)")
        }
        (self.index, self.count) = (index, count)
    }

    /// "I/N".
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let i = parts[0], let n = parts[1] else {
            throw PipelineError.invalidConfig("--shard takes I/N (e.g. 0/4) or auto, got '\(text)'")
        }
        try self.init(index: i, count: n)
    }

    /// The shard a scheduler gives this process through its environment: Open MPI's (OMPI_COMM_WORLD_RANK and
    /// _SIZE) or MPICH's (PMI_RANK, PMI_SIZE) rank variables, a Slurm job array (SLURM_ARRAY_TASK_ID counted from
    /// SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT), or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with
    /// `shards`, the Job's completions, since the pod is not told them).
    public static func fromScheduler(_ env: [String: String], shards: Int?) throws -> Shard {
        func int(_ key: String) -> Int? { env[key].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        if let r = int("OMPI_COMM_WORLD_RANK"), let n = int("OMPI_COMM_WORLD_SIZE") { return try Shard(index: r, count: n) }
        if let r = int("PMI_RANK"), let n = int("PMI_SIZE") { return try Shard(index: r, count: n) }
        if let id = int("SLURM_ARRAY_TASK_ID"), let n = int("SLURM_ARRAY_TASK_COUNT") {
            return try Shard(index: id - (int("SLURM_ARRAY_TASK_MIN") ?? 0), count: n)
        }
        if let i = int("JOB_COMPLETION_INDEX") {
            guard let shards else {
                throw PipelineError.invalidConfig("--shard auto in a Kubernetes Indexed Job needs --shards N (the Job's completions)")
            }
            return try Shard(index: i, count: shards)
        }
        throw PipelineError.invalidConfig("--shard auto found no scheduler: none of OMPI_COMM_WORLD_RANK/_SIZE, PMI_RANK/PMI_SIZE, "
            + "SLURM_ARRAY_TASK_ID/_COUNT or JOB_COMPLETION_INDEX is set; give --shard I/N")
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether `relativePath` belongs to this shard.
    public func owns(_ relativePath: String) -> Bool { Int(Self.hash(relativePath) % UInt64(count)) == index }

    /// FNV-1a, 64 bits, over the path's UTF-8 bytes: stable across machines and releases (Swift's `hashValue` is
    /// seeded per process).
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h
    }

    /// Where this shard's summary part goes inside the output folder (its images go beside the others').
    public func partFolder(in out: URL) -> URL { out.appendingPathComponent("parts/shard-\(index)-of-\(count)") }
}

/// A summary part's record of its shard and of the whole input list, which `merge` checks coverage against.
struct ShardRecord: Codable {
    var shard: Shard
    /// Every input of the job in order (relative paths), not only this shard's.
    var inputs: [String]
    var runID: String
    /// Whether the shard finished (false: it stopped; stopped.csv says where).
    var complete: Bool
}
