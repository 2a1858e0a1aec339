import COneDNN

/// Moves a 4-D tensor between the plain and blocked layouts.
public enum LayoutKernels {
    public static func convert(dims: [Int], from: Layout, to: Layout, src: UnsafeMutablePointer<Float>,
                               dst: UnsafeMutablePointer<Float>) {
        if from == to {
            dst.update(from: src, count: dims.reduce(1, *))
            return
        }
        Primitive.reorder(.init(src), from: MD.of(dims, from), to: MD.of(dims, to), into: .init(dst))
    }
}
