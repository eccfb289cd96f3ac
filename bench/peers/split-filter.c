/*
 * split-filter: pg-fanout's name split as a Unix filter, for the peer benchmark's psql pipes.
 *
 *   psql -c "COPY (SELECT id, name, age FROM input_table) TO STDOUT" \
 *     | split-filter \
 *     | psql -c "COPY output_table (id, first_name, last_name, age) FROM STDIN"
 *
 * Reads COPY text rows (id, name, age) on stdin and writes COPY text rows
 * (id, first_name, last_name, age) on stdout. The name is trimmed and split at its first run of
 * whitespace (lambdas/transform/split-name.ts): whitespace is JavaScript's \s, ASCII and the
 * Unicode spaces in UTF-8, as lambdas/transform/split-name-transform.ts classifies bytes. A NULL,
 * empty or whitespace-only name is dropped (pg-fanout records it in etl.rejects; this filter has
 * nowhere to put it). A name with a backslash is decoded first (\t, \n, octal, \x.., \c), and its
 * parts are escaped again as PostgreSQL's COPY TO would escape them; the id and age fields go
 * through byte for byte. Large buffered reads and writes; one pass over each line.
 *
 * Exit status: 0, or 65 (EX_DATAERR) for input that is not 3-field COPY text, 74 (EX_IOERR).
 *
 * Build: cc -O2 -o split-filter split-filter.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EX_DATAERR 65
#define EX_IOERR 74

static unsigned char *in_buf;
static size_t in_cap = 4u << 20;
static unsigned char *out_buf;
static size_t out_cap = 4u << 20;
static size_t out_len;
static unsigned char *scratch;
static size_t scratch_cap;
static unsigned long long line_no;

/* Byte classes: 0 never whitespace, 1 ASCII whitespace, 2 the lead byte of a possible UTF-8 space. */
static unsigned char byte_class[256];
/* The letter a byte is escaped with on output (0: raw), exactly the set COPY TO escapes. */
static unsigned char escape_letter[256];

static void die(int code, const char *what) {
  fprintf(stderr, "split-filter: line %llu: %s\n", line_no, what);
  exit(code);
}

static void *grow(void *p, size_t size) {
  void *q = realloc(p, size);
  if (q == NULL) die(EX_IOERR, "out of memory");
  return q;
}

static void flush_out(void) {
  size_t done = 0;
  while (done < out_len) {
    ssize_t n = write(STDOUT_FILENO, out_buf + done, out_len - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(EX_IOERR, strerror(errno));
    }
    done += (size_t)n;
  }
  out_len = 0;
}

static void reserve_out(size_t n) {
  if (out_len + n <= out_cap) return;
  flush_out();
  if (n > out_cap) {
    out_cap = n * 2;
    out_buf = grow(out_buf, out_cap);
  }
}

static void put_raw(const unsigned char *p, size_t n) {
  memcpy(out_buf + out_len, p, n);
  out_len += n;
}

static void put_escaped(const unsigned char *p, const unsigned char *end) {
  unsigned char *o = out_buf + out_len;
  for (; p < end; p++) {
    unsigned char letter = escape_letter[*p];
    if (letter == 0) {
      *o++ = *p;
    } else {
      *o++ = '\\';
      *o++ = letter;
    }
  }
  out_len = (size_t)(o - out_buf);
}

/* The length of the whitespace character whose UTF-8 starts at p, or 0 (see split-name-transform.ts). */
static inline size_t whitespace_length(const unsigned char *p, const unsigned char *end) {
  unsigned char c = byte_class[*p];
  if (c == 0) return 0;
  if (c == 1) return 1;
  if (p[0] == 0xc2) return end - p >= 2 && p[1] == 0xa0 ? 2 : 0; /* U+00A0 */
  if (end - p < 3) return 0;
  unsigned char b1 = p[1], b2 = p[2];
  switch (p[0]) {
    case 0xe1: /* U+1680 */
      return b1 == 0x9a && b2 == 0x80 ? 3 : 0;
    case 0xe2: /* U+2000-200A, U+2028, U+2029, U+202F, U+205F */
      if (b1 == 0x80) return (b2 >= 0x80 && b2 <= 0x8a) || b2 == 0xa8 || b2 == 0xa9 || b2 == 0xaf ? 3 : 0;
      return b1 == 0x81 && b2 == 0x9f ? 3 : 0;
    case 0xe3: /* U+3000 */
      return b1 == 0x80 && b2 == 0x80 ? 3 : 0;
    case 0xef: /* U+FEFF */
      return b1 == 0xbb && b2 == 0xbf ? 3 : 0;
    default:
      return 0;
  }
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int is_octal(unsigned char c) { return c >= '0' && c <= '7'; }

/* Decodes a field's escapes as COPY FROM does into scratch; returns the decoded length. */
static size_t decode(const unsigned char *p, const unsigned char *end) {
  size_t need = (size_t)(end - p);
  if (need > scratch_cap) {
    scratch_cap = need * 2;
    scratch = grow(scratch, scratch_cap);
  }
  unsigned char *o = scratch;
  while (p < end) {
    unsigned char b = *p++;
    if (b != '\\') {
      *o++ = b;
      continue;
    }
    if (p == end) die(EX_DATAERR, "a field ends in a lone backslash: the input is not COPY text as PostgreSQL writes it");
    unsigned char c = *p++;
    switch (c) {
      case 'b': *o++ = 0x08; break;
      case 'f': *o++ = 0x0c; break;
      case 'n': *o++ = 0x0a; break;
      case 'r': *o++ = 0x0d; break;
      case 't': *o++ = 0x09; break;
      case 'v': *o++ = 0x0b; break;
      default:
        if (is_octal(c)) {
          unsigned value = c - '0';
          if (p < end && is_octal(*p)) {
            value = value * 8 + (unsigned)(*p++ - '0');
            if (p < end && is_octal(*p)) value = value * 8 + (unsigned)(*p++ - '0');
          }
          *o++ = (unsigned char)(value & 0xff);
        } else if (c == 'x' && p < end && hex_value(*p) >= 0) {
          int value = hex_value(*p++);
          if (p < end && hex_value(*p) >= 0) value = value * 16 + hex_value(*p++);
          *o++ = (unsigned char)value;
        } else {
          *o++ = c;
        }
    }
  }
  return (size_t)(o - scratch);
}

static void split_line(const unsigned char *line, const unsigned char *end) {
  const unsigned char *tab1 = memchr(line, '\t', (size_t)(end - line));
  const unsigned char *tab2 = tab1 ? memchr(tab1 + 1, '\t', (size_t)(end - tab1 - 1)) : NULL;
  if (tab2 == NULL || memchr(tab2 + 1, '\t', (size_t)(end - tab2 - 1)) != NULL) {
    die(EX_DATAERR, "expected 3 tab-separated fields (id, name, age): run COPY (SELECT id, name, age FROM ...) TO STDOUT in text format");
  }
  const unsigned char *name = tab1 + 1;
  const unsigned char *name_end = tab2;
  if (name == name_end) return;                                                /* empty */
  if (name_end - name == 2 && name[0] == '\\' && name[1] == 'N') return;        /* NULL */

  int escaped = memchr(name, '\\', (size_t)(name_end - name)) != NULL;
  const unsigned char *p = name;
  const unsigned char *e = name_end;
  if (escaped) {
    size_t decoded = decode(name, name_end); /* may move scratch */
    p = scratch;
    e = scratch + decoded;
  }

  size_t w;
  while (p < e && (w = whitespace_length(p, e)) != 0) p += w;
  if (p == e) return;                                                          /* whitespace only */
  const unsigned char *first = p;
  while (p < e && whitespace_length(p, e) == 0) p++;
  const unsigned char *first_end = p;
  while (p < e && (w = whitespace_length(p, e)) != 0) p += w;
  /* The last name runs to its last non-whitespace character; inner whitespace is kept. */
  const unsigned char *last = p;
  const unsigned char *last_end = p;
  while (p < e) {
    if ((w = whitespace_length(p, e)) != 0) {
      p += w;
    } else {
      last_end = ++p;
    }
  }

  /* Escaping at most doubles a field; id and age are copied as they are. */
  reserve_out((size_t)(end - line) * 2 + 8);
  put_raw(line, (size_t)(tab1 - line) + 1);
  if (escaped) put_escaped(first, first_end); else put_raw(first, (size_t)(first_end - first));
  out_buf[out_len++] = '\t';
  if (last_end > last) {
    if (escaped) put_escaped(last, last_end); else put_raw(last, (size_t)(last_end - last));
  } else {
    put_raw((const unsigned char *)"\\N", 2);
  }
  put_raw(tab2, (size_t)(end - tab2));
  out_buf[out_len++] = '\n';
}

int main(void) {
  for (int b = 0x09; b <= 0x0d; b++) byte_class[b] = 1;
  byte_class[0x20] = 1;
  byte_class[0xc2] = byte_class[0xe1] = byte_class[0xe2] = byte_class[0xe3] = byte_class[0xef] = 2;
  escape_letter[0x08] = 'b';
  escape_letter[0x09] = 't';
  escape_letter[0x0a] = 'n';
  escape_letter[0x0b] = 'v';
  escape_letter[0x0c] = 'f';
  escape_letter[0x0d] = 'r';
  escape_letter['\\'] = '\\';

  in_buf = grow(NULL, in_cap);
  out_buf = grow(NULL, out_cap);
  size_t have = 0;
  int eof = 0;
  while (!eof) {
    ssize_t n = read(STDIN_FILENO, in_buf + have, in_cap - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      die(EX_IOERR, strerror(errno));
    }
    if (n == 0) {
      eof = 1;
      /* A last line without its newline still counts. */
      if (have > 0) in_buf[have++] = '\n';
    }
    have += (size_t)n;
    unsigned char *p = in_buf;
    unsigned char *end = in_buf + have;
    unsigned char *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
      line_no++;
      if (nl - p == 2 && p[0] == '\\' && p[1] == '.') { /* end-of-data marker */
        eof = 1;
        break;
      }
      split_line(p, nl);
      p = nl + 1;
    }
    if (eof) break;
    have = (size_t)(end - p);
    memmove(in_buf, p, have);
    if (have + 1 >= in_cap) { /* one line longer than the buffer (+1: room for a closing newline) */
      in_cap *= 2;
      in_buf = grow(in_buf, in_cap);
    }
  }
  flush_out();
  return 0;
}
