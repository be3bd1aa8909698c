// Exits with a clear message on a Node.js older than the code needs (types stripped natively from
// 22.18; `reusePort` from 22.12). A checkout's npm scripts and npx use the Node 24 LTS that
// `npm ci` puts in node_modules/.bin, whatever the system Node is.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `infermesh needs Node.js >= 22.18 (a supported LTS); this is ${process.version}.\n` +
      'In a checkout, run it through npm (`npm start`, `npm test`, `npx meshd`, `npx mesh`): they use\n' +
      'the Node 24 LTS that `npm ci` puts in node_modules/.bin.\n',
  );
  process.exit(1);
}
