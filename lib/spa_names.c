/* SPDX-License-Identifier: MIT */
/* Names and sizes of the algorithms, modes and message types fwknop uses. */
#include "spa_internal.h"
#include <strings.h>

static const struct spa_digest_info spa_digests[] = {
	{ SPA_DIGEST_MD5, "md5", "MD5", "MD5", 16, 22 },
	{ SPA_DIGEST_SHA1, "sha1", "SHA1", "SHA1", 20, 27 },
	{ SPA_DIGEST_SHA256, "sha256", "SHA256", "SHA256", 32, 43 },
	{ SPA_DIGEST_SHA384, "sha384", "SHA384", "SHA384", 48, 64 },
	{ SPA_DIGEST_SHA512, "sha512", "SHA512", "SHA512", 64, 86 },
	{ SPA_DIGEST_SHA3_256, "sha3_256", "SHA3_256", "SHA3-256", 32, 43 },
	{ SPA_DIGEST_SHA3_512, "sha3_512", "SHA3_512", "SHA3-512", 64, 86 },
};

const struct spa_digest_info *spa_digest_info(int id)
{
	if (id < SPA_DIGEST_MD5 || id > SPA_DIGEST_MAX)
		return NULL;
	return &spa_digests[id - 1];
}

int spa_digest_from_name(const char *name)
{
	if (!name)
		return -SPA_E_ARG;
	for (size_t i = 0; i < sizeof(spa_digests) / sizeof(spa_digests[0]); i++)
		if (strcasecmp(name, spa_digests[i].name) == 0)
			return spa_digests[i].id;
	return -SPA_E_DIGEST_TYPE;
}

const char *spa_digest_name(int type)
{
	const struct spa_digest_info *d = spa_digest_info(type);
	return d ? d->name : "unknown";
}

const char *spa_digest_label(int type)
{
	const struct spa_digest_info *d = spa_digest_info(type);
	return d ? d->label : "None";
}

size_t spa_digest_b64_len(int type)
{
	const struct spa_digest_info *d = spa_digest_info(type);
	return d ? d->b64_len : 0;
}

size_t spa_digest_raw_len(int type)
{
	const struct spa_digest_info *d = spa_digest_info(type);
	return d ? d->raw_len : 0;
}

static const struct {
	int mode;
	const char *name;
} spa_modes[] = {
	{ SPA_MODE_ECB, "ECB" },
	{ SPA_MODE_CBC, "CBC" },
	{ SPA_MODE_CFB, "CFB" },
	{ SPA_MODE_OFB, "OFB" },
	{ SPA_MODE_CTR, "CTR" },
	{ SPA_MODE_ASYMMETRIC, "Asymmetric" },
	{ SPA_MODE_CBC_LEGACY_IV, "legacy" },
};

int spa_mode_from_name(const char *name)
{
	if (!name)
		return -SPA_E_ARG;
	for (size_t i = 0; i < sizeof(spa_modes) / sizeof(spa_modes[0]); i++)
		if (strcasecmp(name, spa_modes[i].name) == 0)
			return spa_modes[i].mode;
	return -SPA_E_MODE;
}

const char *spa_mode_name(int mode)
{
	for (size_t i = 0; i < sizeof(spa_modes) / sizeof(spa_modes[0]); i++)
		if (spa_modes[i].mode == mode)
			return spa_modes[i].name;
	return "unknown";
}

const char *spa_msg_type_name(int type)
{
	static const char *const names[] = {
		"Command msg",
		"Access msg",
		"NAT access msg",
		"Client timeout access msg",
		"Client timeout NAT access msg",
		"Local NAT access msg",
		"Client timeout local NAT access msg",
	};
	if (type < 0 || type > SPA_MSG_TYPE_MAX)
		return "Unknown msg";
	return names[type];
}
