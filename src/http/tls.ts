import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createSecureContext } from 'node:tls';

/** A certificate chain and its private key, PEM. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** Read and check a certificate/key pair (throws naming the file when it cannot be used). */
export function readTlsFiles(files: { certFile: string; keyFile: string }): TlsMaterial {
  const material = { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) };
  try {
    // Parses both and checks that the key belongs to the certificate.
    createSecureContext(material);
  } catch (error) {
    throw new Error(
      `AIHUB_TLS_CERT=${files.certFile} / AIHUB_TLS_KEY=${files.keyFile}: ${error instanceof Error ? error.message : error}`,
    );
  }
  return material;
}

/** A server whose certificate can be replaced while it runs (node:https and node:http2 secure servers). */
export interface SecureServer {
  setSecureContext(options: TlsMaterial): void;
}

export interface TlsReloadLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Reload the certificate when either file changes (a renewal by certbot, cert-manager or ACME): new connections
 * get the new certificate, open ones keep theirs. A pair that does not load is logged and the old one kept.
 * Polls (fs.watchFile) rather than inotify: renewals often replace files by rename or symlink swap, which
 * inotify watches on the old inode miss. Returns a function that stops watching.
 */
export function watchTlsFiles(
  server: SecureServer,
  files: { certFile: string; keyFile: string },
  log: TlsReloadLog,
  intervalMs = 5000,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    // Both files usually change together: wait for the second before loading.
    clearTimeout(timer);
    timer = setTimeout(
      () => {
        try {
          server.setSecureContext(readTlsFiles(files));
          log.info({ cert: files.certFile }, 'reloaded the TLS certificate');
        } catch (error) {
          log.error({ err: error }, 'the changed TLS certificate could not be loaded; still serving the previous one');
        }
      },
      Math.min(500, intervalMs),
    );
    timer.unref();
  };
  const options = { interval: intervalMs, persistent: false };
  watchFile(files.certFile, options, reload);
  watchFile(files.keyFile, options, reload);
  return () => {
    clearTimeout(timer);
    unwatchFile(files.certFile, reload);
    unwatchFile(files.keyFile, reload);
  };
}
