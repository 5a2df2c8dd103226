import NIOCore

/// An event loop as a task executor: a task that prefers it runs its jobs as tasks of that loop, in order.
///
/// The Raft loop runs on the peer transport's event loop this way. Its sends reach the sockets inline, and a peer's
/// frame needs no thread hop (the thread that read it runs the Raft round next); on a thread of its own the loop
/// cost a wake-up on each side of every message, on the path of every write. The loop still blocks on fsync, as
/// etcd's raft goroutine does, so this event loop must serve the peer transport alone.
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
