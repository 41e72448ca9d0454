/*
 * The configuration section of an agent checkpoint (docs/checkpoint-format.md, section 1), encoded
 * and compared field by field from the table of config_fields.h.
 *
 * Format version 2 stores each field with its name and type, so that a field added to the table
 * needs no new format version: a file written before the field existed simply lacks it, and it
 * then stands for the field's default. Format version 1 stored the 33 fields of that time by
 * position only; it is still read (config_codec.c keeps its frozen field order).
 */
#ifndef MFPO_ALGO_CONFIG_CODEC_H
#define MFPO_ALGO_CONFIG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <mfpo/config.h>

/* Largest config section a reader accepts (bytes). */
#define CONFIG_CODEC_MAX_BYTES 65536u

/* Bytes of the version-2 section of a configuration, and its encoding into p. */
size_t config_codec_size(void);
void config_codec_encode(unsigned char *p, const mfpo_agent_config *c);

/* Bytes and fields of a version-1 section (frozen with that format). */
size_t config_codec_v1_size(void);
size_t config_codec_v1_count(void);

/*
 * Decodes a config section of format `version` (1 or 2), len bytes at p, and compares it with
 * `have` field by field (floats bit for bit), in the table's order. Returns 0 when they describe
 * the same configuration; otherwise -1 with the first problem in why (no prefix), e.g.
 * "hidden_width is 17 in the file but 16 in this agent" or "3 bytes, too short for a field count".
 */
int config_codec_compare(const unsigned char *p, size_t len, uint32_t version, const mfpo_agent_config *have, char *why,
                         size_t why_size);

#endif
