/* UTF-8 repair for the JSON focusnet writes. cJSON escapes quotes,
 * backslashes and control characters but copies other bytes as they are, so
 * a path or class name in another encoding (a folder named in Latin-1, say)
 * would make the whole document invalid; such bytes become U+FFFD. */
#include <stdlib.h>
#include <string.h>

#include "../focusnet.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one:
 * overlong forms, surrogates and code points past U+10FFFF are invalid. */
static int utf8_len(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < 0x80) return 1;
    int n;
    unsigned min, cp;
    if ((c & 0xE0) == 0xC0)
        n = 2, min = 0x80, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        n = 3, min = 0x800, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        n = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0; /* also stops at the NUL */
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

char *fn_utf8_sanitize(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s);
    char *out = malloc(3 * n + 1); /* each bad byte becomes 3 bytes */
    if (!out) return NULL;
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int len = utf8_len(p);
        if (len) {
            memcpy(out + o, p, (size_t)len);
            o += (size_t)len;
            p += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            p++;
        }
    }
    out[o] = 0;
    return out;
}
