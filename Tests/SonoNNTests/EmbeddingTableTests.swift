import SonoBase
import XCTest
@testable import SonoNN
import SonoTensor

final class EmbeddingTableTests: XCTestCase {
    func testSparseGradientMatchesDenseOp() {
        var g = RandomGenerator(seed: 3)
        let table = EmbeddingTable(rows: 10, dims: 5, rng: &g)
        let w = Tensor.normal([5, 2], rng: &g)
        let indices = [7, 2, 7]
        table(indices).matmul(w).sum().backward()
        XCTAssertEqual(table.touchedRows, [2, 7])
        XCTAssertNil(table.weight.grad, "the sparse path leaves the dense gradient alone")
        // the same computation through the dense op
        let dense = table.weight.detached()
        dense.requiresGrad = true
        Tensor.embedding(table: dense, indices: indices).matmul(w).sum().backward()
        let a = table.denseGradient().scalars, b = dense.grad!.scalars
        for (u, v) in zip(a, b) { XCTAssertEqual(u, v, accuracy: 1e-6) }
        table.zeroGrad()
        XCTAssertTrue(table.touchedRows.isEmpty)
    }

    func testLazyAdamUpdatesOnlyTouchedRowsLikeAdam() {
        var g = RandomGenerator(seed: 4)
        let table = EmbeddingTable(rows: 6, dims: 20, rng: &g)
        let before = table.weight.scalars
        // reference: dense Adam on a copy of row 4
        let row4 = Tensor(Array(before[80..<100]), shape: [1, 20], requiresGrad: true)
        let adam = Adam(), lazy = LazyAdam()
        for step in 0..<3 {
            let target = Tensor.full(Float(step), [1, 20])
            mseLoss(table([4]), target).backward()
            lazy.update([("codes", table)], learningRate: 0.1)
            XCTAssertTrue(table.touchedRows.isEmpty, "update consumes the pending gradients")
            mseLoss(row4, target).backward()
            adam.update([("row4", row4)], learningRate: 0.1)
            adam.zeroGrad([("row4", row4)])
        }
        let after = table.weight.scalars
        for i in 0..<120 where !(80..<100).contains(i) { XCTAssertEqual(after[i], before[i], "untouched row moved at \(i)") }
        for (u, v) in zip(after[80..<100], row4.scalars) { XCTAssertEqual(u, v, accuracy: 1e-6) }
        // a row updated for the first time now gets a first-step-sized update (per-row bias correction)
        mseLoss(table([0]), Tensor.full(10, [1, 20])).backward()
        lazy.update([("codes", table)], learningRate: 0.1)
        XCTAssertEqual(table.weight.scalars[0] - before[0], 0.1, accuracy: 1e-4)
        XCTAssertEqual(lazy.state().first { $0.0 == "steps.codes" }?.1.scalars, [1, 0, 0, 0, 3, 0])
    }

    func testFrozenTableRecordsNothing() {
        var g = RandomGenerator(seed: 5)
        let table = EmbeddingTable(rows: 3, dims: 4, rng: &g)
        table.setFrozen(true)
        XCTAssertFalse(table([1]).requiresGrad)
    }
}
