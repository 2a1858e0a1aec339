import SonoKernels
/// Embedding lookup: rows of a table gathered by index (latent codes of an auto-decoder, class embeddings).
extension Tensor {
    /// table [rows, dims], `indices` (each in 0..<rows, repeats allowed) → [indices.count, dims].
    /// The table's gradient is dense [rows, dims], zero outside the used rows (repeats add up). For large
    /// tables updated a few rows at a time, use SonoNN's `EmbeddingTable`, which keeps only the touched rows.
    public static func embedding(table: Tensor, indices: [Int]) -> Tensor {
        precondition(table.rank == 2, "embedding: table should be [rows, dims], got \(table.shape)")
        let (rows, dims) = (table.shape[0], table.shape[1])
        for i in indices { precondition(i >= 0 && i < rows, "embedding: index \(i) out of range for table \(table.shape)") }
        let t = table.contiguousPlain()
        let out = Tensor.empty([indices.count, dims])
        for (r, i) in indices.enumerated() { (out.ptr + r * dims).update(from: t.ptr + i * dims, count: dims) }
        return out.recorded([table]) { g, _ in
            let gp = g.contiguousPlain()
            let gt = Tensor.zeros([rows, dims])
            // serial: repeated indices add into the same row
            for (r, i) in indices.enumerated() {
                Elementwise.map2Serial(dims, gt.ptr + i * dims, gp.ptr + r * dims, gt.ptr + i * dims) { $0 + $1 }
            }
            return [gt]
        }
    }
}
