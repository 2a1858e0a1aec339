import Foundation

/// The one thread that runs models, behind a bounded queue. A `Segmenter` is not safe to call from two threads
/// at once, and oneDNN already spreads one image over every core, so requests take turns: the queue holds at
/// most `capacity` interactive jobs waiting (one more is refused at once with `QueueFull`, which the API
/// answers 503 + Retry-After, instead of piling up memory); background jobs (the worklist's pre-segmentation)
/// run only when no interactive one waits.
final class InferenceQueue: @unchecked Sendable {
    enum Priority { case interactive, background }
    struct QueueFull: Error { var capacity: Int }

    let capacity: Int
    private let condition = NSCondition()
    private var interactive: [() -> Void] = [], background: [(key: String?, job: () -> Void)] = []
    private var running = false
    private var thread: Thread?
    /// Called with the depth (waiting + running) whenever it changes: the metrics' gauge.
    private let onDepth: @Sendable (Int) -> Void

    init(capacity: Int, onDepth: @escaping @Sendable (Int) -> Void = { _ in }) {
        (self.capacity, self.onDepth) = (capacity, onDepth)
        // A large stack: the networks' recursion and oneDNN's calls are deeper than a default thread's 512 KiB.
        let t = Thread { [unowned self] in self.work() }
        t.stackSize = 16 << 20
        t.name = "sonoseg-inference"
        thread = t
        t.start()
    }

    /// Interactive jobs waiting or running.
    var depth: Int {
        condition.lock(); defer { condition.unlock() }
        return interactive.count + (running ? 1 : 0)
    }

    /// Background jobs waiting (the worklist's pre-segmentation).
    var waitingInBackground: Int {
        condition.lock(); defer { condition.unlock() }
        return background.count
    }

    /// Runs `job` on the inference thread and returns its result; throws `QueueFull` without waiting when
    /// `capacity` interactive jobs already wait.
    func run<T>(_ priority: Priority = .interactive, key: String? = nil, _ job: @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let wrapped = { continuation.resume(with: Result { try job() }) }
            condition.lock()
            if priority == .interactive && interactive.count >= capacity {
                condition.unlock()
                continuation.resume(throwing: QueueFull(capacity: capacity))
                return
            }
            if priority == .interactive { interactive.append(wrapped) } else { background.append((key, wrapped)) }
            let d = interactive.count + (running ? 1 : 0)
            condition.signal()
            condition.unlock()
            onDepth(d)
        }
    }

    /// Moves the background job for `key` to the end of the interactive line: a person now waits for it, and
    /// background work runs only when nobody does. It still runs once; nothing is refused.
    func promote(_ key: String) {
        condition.lock()
        if let i = background.firstIndex(where: { $0.key == key }) { interactive.append(background.remove(at: i).job) }
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while interactive.isEmpty && background.isEmpty { condition.wait() }
            let job = interactive.isEmpty ? background.removeFirst().job : interactive.removeFirst()
            running = true
            let d = interactive.count + 1
            condition.unlock()
            onDepth(d)
            job()
            condition.lock()
            running = false
            let after = interactive.count
            condition.unlock()
            onDepth(after)
        }
    }
}
