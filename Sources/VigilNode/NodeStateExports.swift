// The replicated state machine (settings, duty, tokens) lives in the pure NodeState; users of VigilNode see it.
@_exported import NodeState
