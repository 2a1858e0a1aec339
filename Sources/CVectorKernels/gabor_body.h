// The kernels' bodies, written once over a vector of W floats; vector_kernels.c includes this file once per
// width with W, NAME(...) and TARGET defined. Cephes-style polynomials, the same as SonoKernels' VectorMath.swift.
typedef float NAME(vf) __attribute__((ext_vector_type(W)));
typedef int NAME(vi) __attribute__((ext_vector_type(W)));

static const float NAME(magic) = 12582912.0f;   // 1.5 * 2^23: adding and subtracting it rounds to nearest

TARGET static inline NAME(vf) NAME(select)(NAME(vi) m, NAME(vf) a, NAME(vf) b) {
    return (NAME(vf))(((NAME(vi))a & m) | ((NAME(vi))b & ~m));
}

TARGET static inline NAME(vf) NAME(vexp)(NAME(vf) x) {
    NAME(vi) lo = x < -87.3f, hi = x > 88.3f;
    x = NAME(select)(lo, (NAME(vf))-87.3f, NAME(select)(hi, (NAME(vf))88.3f, x));
    NAME(vf) n = (x * 1.44269504088896341f + NAME(magic)) - NAME(magic);
    NAME(vf) r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    NAME(vf) p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    NAME(vi) k = __builtin_convertvector(n, NAME(vi));
    return p * (NAME(vf))((k + 127) << 23);
}

TARGET static inline void NAME(vsincos)(NAME(vf) x, NAME(vf) *s, NAME(vf) *c) {
    NAME(vf) j = (x * 0.636619772367581343f + NAME(magic)) - NAME(magic);
    NAME(vf) r = x - j * 1.5703125f;
    r = r - j * 4.837512969970703125e-4f;
    r = r - j * 7.54978995489188216e-8f;
    NAME(vf) z = r * r;
    NAME(vf) sp = -1.9515295891e-4f;
    sp = sp * z + 8.3321608736e-3f;
    sp = sp * z - 1.6666654611e-1f;
    sp = sp * z * r + r;
    NAME(vf) cp = 2.443315711809948e-5f;
    cp = cp * z - 1.388731625493765e-3f;
    cp = cp * z + 4.166664568298827e-2f;
    cp = cp * z * z - 0.5f * z + 1.0f;
    NAME(vi) q = __builtin_convertvector(j, NAME(vi)) & 3;
    NAME(vi) swap = -(q & 1);
    NAME(vf) sv = NAME(select)(swap, cp, sp), cv = NAME(select)(swap, sp, cp);
    *s = (NAME(vf))((NAME(vi))sv ^ ((q & 2) << 30));
    *c = (NAME(vf))((NAME(vi))cv ^ (((q + 1) & 2) << 30));
}

TARGET static inline void NAME(gabor_vector)(NAME(vf) x, NAME(vf) *y, NAME(vf) *dy, float w0, float s0) {
    NAME(vf) s, c;
    NAME(vsincos)(w0 * x, &s, &c);
    NAME(vf) sx = s0 * x;
    NAME(vf) e = NAME(vexp)(-(sx * sx));
    *y = c * e;
    *dy = -e * (w0 * s + (2.0f * s0 * s0) * x * c);
}

// The tail (n % W) runs on a zero-padded vector through the same arithmetic, so every element is computed alike.
TARGET void NAME(sono_gabor)(size_t n, const float *x, float *y, float *dy, float w0, float s0) {
    size_t i = 0;
    for (; i + W <= n; i += W) {
        NAME(vf) v, a, b;
        __builtin_memcpy(&v, x + i, sizeof v);
        NAME(gabor_vector)(v, &a, &b, w0, s0);
        __builtin_memcpy(y + i, &a, sizeof a);
        if (dy) __builtin_memcpy(dy + i, &b, sizeof b);
    }
    if (i < n) {
        NAME(vf) v = 0, a, b;
        __builtin_memcpy(&v, x + i, (n - i) * sizeof(float));
        NAME(gabor_vector)(v, &a, &b, w0, s0);
        __builtin_memcpy(y + i, &a, (n - i) * sizeof(float));
        if (dy) __builtin_memcpy(dy + i, &b, (n - i) * sizeof(float));
    }
}
