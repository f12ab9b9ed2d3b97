/* SPDX-License-Identifier: MIT */
/* spa_capture.h - pcap capture: live interfaces or a capture file. */
#ifndef SPA_CAPTURE_H
#define SPA_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPA_MAX_CAPTURES 8

struct pcap;

struct spa_capture {
	struct pcap *p;
	int fd;          /* pollable descriptor, -1 for a file */
	int dlt;
	char name[64];
};

struct spa_capture_opts {
	const char *filter;
	uint32_t snaplen;
	bool promisc;
	bool any_direction;
};

typedef void spa_capture_cb(void *ctx, const struct spa_capture *cap, const uint8_t *frame,
			    size_t caplen);

/* Each returns 0 or a negative code with the reason in err. */
int spa_capture_open_live(struct spa_capture *c, const char *intf,
			  const struct spa_capture_opts *o, char *err, size_t errlen);
int spa_capture_open_file(struct spa_capture *c, const char *path,
			  const struct spa_capture_opts *o, char *err, size_t errlen);
/* Hands up to max frames to cb. Returns how many, 0 when none is waiting,
 * -ENODATA at the end of a file, another negative code on error. */
int spa_capture_dispatch(struct spa_capture *c, int max, spa_capture_cb *cb, void *ctx);
/* Makes a running dispatch return after the current frame. */
void spa_capture_break(struct spa_capture *c);
void spa_capture_close(struct spa_capture *c);
/* The descriptor reading needs: the live one, or a file's. -1 if none. */
int spa_capture_fileno(const struct spa_capture *c);

#endif
