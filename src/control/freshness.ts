/**
 * Response headers of a control read answered from a node's mirror of the store: the revision it
 * reflects, and `true` when the mirror may lag the store (the store cannot answer or commit).
 */
export const STALE_HEADER = 'mesh-stale';
export const REVISION_HEADER = 'mesh-revision';
