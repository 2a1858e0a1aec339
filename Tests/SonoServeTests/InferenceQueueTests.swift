import Foundation
import XCTest
@testable import SonoServe

/// The queue in front of the models: one job at a time, interactive before background, and a full queue
/// refused at once rather than growing.
final class InferenceQueueTests: XCTestCase {
    func testAFullQueueRefusesAtOnceAndJobsRunOneAtATime() async throws {
        let queue = InferenceQueue(capacity: 2)
        let gate = DispatchSemaphore(value: 0)
        let counter = Counter()
        // one job running (held at the gate), two waiting: the queue is full
        let started = Flag()
        let first = Task { try await queue.run { started.set(); _ = gate.wait(timeout: .now() + 30); return counter.enter() } }
        try await waitUntil { started.isSet }   // running, not merely queued
        let waiting = (0..<2).map { _ in Task { try await queue.run { counter.enter() } } }
        try await waitUntil { queue.depth >= 3 }
        do {
            _ = try await queue.run { counter.enter() }
            XCTFail("a fourth job was taken by a queue of capacity 2 with one running")
        } catch is InferenceQueue.QueueFull {}
        gate.signal()
        _ = try await first.value
        for w in waiting { _ = try await w.value }
        XCTAssertEqual(counter.maxConcurrent, 1, "jobs overlapped")
        XCTAssertEqual(counter.total, 3)
        // the worker marks itself idle just after the last caller resumes
        for _ in 0..<1000 where queue.depth > 0 { try await Task.sleep(nanoseconds: 1_000_000) }
        XCTAssertEqual(queue.depth, 0)
    }

    func testInteractiveJobsGoBeforeBackgroundOnes() async throws {
        let queue = InferenceQueue(capacity: 8)
        let gate = DispatchSemaphore(value: 0)
        let order = Counter()
        let started = Flag()
        let blocker = Task { try await queue.run { started.set(); _ = gate.wait(timeout: .now() + 30) } }
        try await waitUntil { started.isSet }
        let background = Task { try await queue.run(.background) { order.log("background") } }
        try await Task.sleep(nanoseconds: 20_000_000)
        let interactive = Task { try await queue.run { order.log("interactive") } }
        try await waitUntil { queue.depth >= 2 }
        gate.signal()
        _ = try await blocker.value
        _ = try await background.value
        _ = try await interactive.value
        XCTAssertEqual(order.names, ["interactive", "background"])
    }

    func testABackgroundJobSomeoneWaitsForIsPromoted() async throws {
        let queue = InferenceQueue(capacity: 8)
        let gate = DispatchSemaphore(value: 0)
        let order = Counter()
        let started = Flag()
        let blocker = Task { try await queue.run { started.set(); _ = gate.wait(timeout: .now() + 30) } }
        try await waitUntil { started.isSet }
        let first = Task { try await queue.run(.background, key: "a") { order.log("a") } }
        let second = Task { try await queue.run(.background, key: "b") { order.log("b") } }
        try await waitUntil { queue.waitingInBackground == 2 }
        queue.promote("b")
        gate.signal()
        _ = try await blocker.value
        _ = try await first.value
        _ = try await second.value
        XCTAssertEqual(order.names, ["b", "a"], "the promoted job ran first")
    }

    func testAJobsErrorReachesItsCaller() async {
        struct Boom: Error {}
        let queue = InferenceQueue(capacity: 1)
        do { _ = try await queue.run { throw Boom() } as Int; XCTFail("no error") } catch is Boom {} catch { XCTFail("\(error)") }
        let value = try? await queue.run { 42 }
        XCTAssertEqual(value, 42, "the queue goes on after a failed job")
    }
}

/// Waits for `condition` at most 30 s, so a broken queue fails the test instead of hanging it.
func waitUntil(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
    let deadline = Date().addingTimeInterval(30)
    while !condition() {
        guard Date() < deadline else { XCTFail("timed out waiting", file: file, line: line); return }
        try await Task.sleep(nanoseconds: 1_000_000)
    }
}

/// Set once, from any thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}

/// Counts jobs that overlap, and the order they ran in.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private(set) var maxConcurrent = 0, total = 0
    private(set) var names: [String] = []
    func enter() -> Int {
        lock.lock(); current += 1; total += 1; maxConcurrent = max(maxConcurrent, current); lock.unlock()
        Thread.sleep(forTimeInterval: 0.01)
        lock.lock(); current -= 1; lock.unlock()
        return total
    }
    func log(_ name: String) { lock.lock(); names.append(name); lock.unlock() }
}
