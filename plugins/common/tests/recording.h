/* SPDX-License-Identifier: MIT */
/*
 * A recording executable standing in for a firewall CLI that cannot run
 * here (ipfw, pfctl), for tests through exec_host. It appends to a
 * transcript its own name and argv, then the lines of any batch file it
 * was given ("  | ...", the file shown as <file>) and of the stdin it
 * received ("  < ..."); the stdin is also left in the file "stdin" next to
 * it. What it prints and how it exits is up to the test: a shell fragment
 * (a case on "$*" usually) run with the executable's arguments, with $d
 * the directory holding the transcript and the test's files.
 */
#ifndef RECORDING_H
#define RECORDING_H

struct recording {
	char dir[64];
	char exe[128];     /* the executable, for the plugin's *_EXE key */
};

/* Creates a private directory holding tool (the recorder) and respond;
 * 0 or -1. */
int recording_init(struct recording *r, const char *tool, const char *respond);
/* Writes dir/name (a listing the responder prints, say); 0 or -1. */
int recording_put(const struct recording *r, const char *name, const char *text);
/* Compares the transcript so far (the directory shown as ".") with
 * golden_dir/name, as golden_check does; 0 when equal. */
int recording_check(const struct recording *r, const char *golden_dir, const char *name);
/* Removes the directory and everything in it. */
void recording_free(struct recording *r);

#endif
