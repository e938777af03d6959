import { CameraError } from '../../errors';

/**
 * Opens a camera (getUserMedia, video only) and maps its failures to CameraError:
 * permission refused → CAMERA_DENIED; no matching camera → CAMERA_NOT_FOUND; in use, not allowed
 * here (no mediaDevices outside a secure context) → CAMERA_UNAVAILABLE.
 */
export async function openCamera(constraints: MediaTrackConstraints | boolean = true): Promise<MediaStream> {
  const media = globalThis.navigator?.mediaDevices;
  if (!media?.getUserMedia) {
    const insecure = globalThis.isSecureContext === false;
    throw new CameraError('CAMERA_UNAVAILABLE', insecure ? 'No camera access: this page is not a secure context.' : 'This browser gives no camera access (navigator.mediaDevices.getUserMedia is missing).');
  }
  try {
    return await media.getUserMedia({ video: constraints, audio: false });
  } catch (cause) {
    const name = (cause as { name?: string })?.name;
    const message = (cause as { message?: string })?.message ?? String(cause);
    if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') throw new CameraError('CAMERA_DENIED', `Camera access was denied (${message}).`, { cause });
    if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') throw new CameraError('CAMERA_NOT_FOUND', `No camera matches (${name}: ${message}).`, { cause });
    throw new CameraError('CAMERA_UNAVAILABLE', `The camera could not be started (${name ?? 'Error'}: ${message}).`, { cause });
  }
}
