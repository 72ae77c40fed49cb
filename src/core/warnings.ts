/**
 * Something a person should know that did not stop the work: a memo that could not be written, a
 * libvirt that could not be asked, leftovers that could not be removed. The core never prints and
 * never drops one: it hands each to the caller's sink, and each front end shows them its own way
 * (the CLI on stderr, the action as `core.warning`).
 */
export interface Warning {
  /** Stable identifier of the kind of warning, for front ends and tests. */
  code: string;
  message: string;
}

export type WarningSink = (warning: Warning) => void;
