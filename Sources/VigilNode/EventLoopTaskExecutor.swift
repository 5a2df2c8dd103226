import NIOCore

/// An event loop as a task executor: a task that prefers it runs its jobs as tasks of that loop, in order.
///
/// The Raft loop runs on the peer transport's event loop this way. Its sends then reach the sockets inline, and a
/// peer's message wakes it with no thread hop (the loop that read the frame runs the Raft round next), where a
/// thread of its own cost two wake-ups per message each way on every node, on the path of every write. The loop
/// still blocks on fsync, as etcd's raft goroutine does, so this event loop must serve the peer transport alone.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
