/**
 * TEMPORARY stand-in for a10's layout module (same names as the brief announces), so this branch
 * builds before the merge; the merge takes a10's file.
 */
export interface QualifiedName {
  schema: string;
  name: string;
}

export type AuthLayout =
  | { kind: 'keep' }
  | { kind: 'table'; users: QualifiedName; identities: QualifiedName; columns: { users: Record<string, string>; identities: Record<string, string> } };
