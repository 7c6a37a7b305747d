// Types for the optional native module node-mac-auth (macOS only, loaded lazily by
// touch-id.ts). The reason shown by Touch ID is a fixed string, never agent text.

declare module 'node-mac-auth' {
  export function canPromptTouchID(): boolean;
  export function promptTouchID(options: { reason: string; reuseDuration?: number }): Promise<void>;
}
