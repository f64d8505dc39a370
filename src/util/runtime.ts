// The Node.js line the agent is built, tested and shipped on (package.json
// "engines", the pinned node-linux-<arch> runtime; docs/install.md). Its native
// addons are compiled for that runtime's ABI: on another Node they can crash
// the process outright (better-sqlite3 on Node 20: a segmentation fault, no
// message), so the launcher refuses to start on another line and says why.
export const SUPPORTED_NODE_MAJOR = 24;
/** The line's first LTS release (24.11.0, 2025-10-28): package.json "engines" is ^24.11.0; earlier 24.x were "Current". */
export const SUPPORTED_NODE_MINOR = 11;

/** Why this Node cannot run the agent, or null when it can. */
export function unsupportedRuntime(version: string = process.versions.node, execPath: string = process.execPath): string | null {
  const [major, minor] = version.split('.').map(Number);
  if (major === SUPPORTED_NODE_MAJOR && minor >= SUPPORTED_NODE_MINOR) return null;
  return (
    `room-agent runs on Node.js ${SUPPORTED_NODE_MAJOR} LTS (${SUPPORTED_NODE_MAJOR}.${SUPPORTED_NODE_MINOR} or later; its native addons are built for it), not ${version} (${execPath}). ` +
    'From a checkout: `npm start`, or node_modules/.bin/node (npm ci installs the pinned runtime); ' +
    'installed from the .deb: /usr/bin/room-agent.'
  );
}
