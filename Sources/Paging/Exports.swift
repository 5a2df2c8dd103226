// The scheduler's decisions, its plan and what channels answer live in the pure PagingCore; users of Paging see them.
@_exported import PagingCore
