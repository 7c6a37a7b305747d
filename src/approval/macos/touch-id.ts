// Touch ID after "Allow", through the optional native module node-mac-auth, imported lazily
// and only on darwin (Linux never loads it). The Touch ID reason is fixed text, never agent
// input; a failure, a cancel or a missing module never counts as a confirmation.

/** What the macOS approver needs from Touch ID. */
export interface TouchIdGate {
  /** True when this Mac can prompt for Touch ID (never prompts). */
  available(): boolean;
  /** Asks for a fingerprint; true only on success. */
  confirm(reason: string): Promise<boolean>;
}

interface MacAuth {
  canPromptTouchID(): boolean;
  promptTouchID(options: { reason: string }): Promise<void>;
}

/** The fixed text Touch ID shows ("… is trying to <reason>"). */
export const TOUCH_ID_REASON = 'let the command you just approved use your secrets';

/** Loads node-mac-auth on darwin; null elsewhere or when the module cannot load. */
export async function loadTouchId(platform: NodeJS.Platform): Promise<TouchIdGate | null> {
  if (platform !== 'darwin') return null;
  let auth: MacAuth;
  try {
    const mod = (await import('node-mac-auth')) as Partial<MacAuth> & { default?: Partial<MacAuth> };
    const candidate = typeof mod.promptTouchID === 'function' ? mod : mod.default;
    if (candidate === undefined || typeof candidate.canPromptTouchID !== 'function' || typeof candidate.promptTouchID !== 'function') return null;
    auth = candidate as MacAuth;
  } catch {
    return null;
  }
  return {
    available() {
      try {
        return auth.canPromptTouchID() === true;
      } catch {
        return false;
      }
    },
    async confirm(reason: string) {
      try {
        await auth.promptTouchID({ reason });
        return true;
      } catch {
        return false;
      }
    },
  };
}
