// Preloaded (node --import) into a helper process whose stdin is a pipe from the test process: when
// that pipe closes, the test process is gone, however it ended (even SIGKILL), and so is the helper.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
// The pipe must not keep the helper alive on its own account.
process.stdin.unref?.();
