import Foundation
import Synchronization

/// A thread of its own for one node's Raft loop, used as the loop task's executor preference.
///
/// The loop writes the log with a blocking fsync, as etcd's raft goroutine does. On its own thread that costs
/// no thread hop per write (handing each fsync to a pool and back cost two wake-ups on every node, on the path
/// of every write) and never blocks a thread of the cooperative pool, which has only as many threads as cores.
final class RaftThread: TaskExecutor, Sendable {
    private struct Queue {
        var jobs: [UnownedJob] = []
        var stopped = false
    }

    private let queue = Mutex(Queue())
    private let wake = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in self.runJobs() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        enum Placed { case first, behindOthers, refused }
        let placed = queue.withLock { queue -> Placed in
            guard !queue.stopped else { return .refused }
            queue.jobs.append(job)
            return queue.jobs.count == 1 ? .first : .behindOthers
        }
        switch placed {
        case .first: wake.signal()
        case .behindOthers: break  // whoever queued the first one woke the thread
        case .refused:
            // A continuation resumed after the loop ended runs on the shared pool rather than never.
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }

    /// Lets the thread finish the jobs queued and exit; later jobs run on the shared pool.
    func stop() {
        queue.withLock { $0.stopped = true }
        wake.signal()
    }

    private func runJobs() {
        let executor = asUnownedTaskExecutor()
        while true {
            let (jobs, stopped) = queue.withLock { queue -> ([UnownedJob], Bool) in
                defer { queue.jobs.removeAll(keepingCapacity: true) }
                return (queue.jobs, queue.stopped)
            }
            for job in jobs { job.runSynchronously(on: executor) }
            if stopped, jobs.isEmpty { return }
            if jobs.isEmpty { wake.wait() }
        }
    }
}
