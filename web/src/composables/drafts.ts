// Unsent text per conversation: survives switching conversations (not a reload).
export const drafts = new Map<string, string>()
