import ServiceLifecycle

/// Runs the Raft loop inside the service group; a graceful shutdown becomes a leadership hand-over and stop.
struct LoopService: Service {
    let loop: RaftLoop

    func run() async throws {
        let loop = self.loop
        // The loop waits on its inbox, which does not observe task cancellation; both paths ask it to stop.
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                do { try await loop.run() } catch { throw error }
            } onGracefulShutdown: {
                loop.requestGracefulStop()
            }
        } onCancel: {
            loop.requestGracefulStop()
        }
    }
}
