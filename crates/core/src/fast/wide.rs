//! Element-wise loops compiled for wider vectors when the CPU has them. The crate is built for
//! baseline x86-64 (SSE2, 4 floats per instruction) so that the binary runs anywhere; a
//! function declared with `wide_fn!` is also compiled for AVX2 (8 floats) and AVX-512 (16),
//! and the widest version the CPU can run is picked at run time. The same operations in the
//! same order per element: results do not change (LLVM neither contracts nor reorders
//! floating point unless told).

/// `wide_fn! { pub fn name(a: A, b: B) { body } }`: `name` runs `body` compiled for AVX-512
/// or AVX2 when this CPU has it. What the body calls must be `#[inline(always)]` to be
/// compiled wide too.
#[macro_export]
macro_rules! wide_fn {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(clippy::too_many_arguments)]
            fn base($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2($($arg: $ty),*) $(-> $ret)? {
                base($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx512($($arg: $ty),*) $(-> $ret)? {
                base($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if $crate::fast::wide::use_avx512() {
                // SAFETY: the CPU has AVX-512F, the only feature `avx512` is compiled for.
                return unsafe { avx512($($arg),*) };
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, the only feature `avx2` is compiled for.
                return unsafe { avx2($($arg),*) };
            }
            base($($arg),*)
        }
    };
}

/// Whether the AVX-512 kernels (ours and `gemm`'s) run: the CPU has AVX-512F and the build has
/// the `avx512` feature (on by default). A build without it runs the AVX2 kernels on any CPU,
/// which is how the two are checked to give the same bits on one machine (`.ci/isa-bits`).
#[inline]
pub fn use_avx512() -> bool {
    #[cfg(all(target_arch = "x86_64", feature = "avx512"))]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(all(target_arch = "x86_64", feature = "avx512")))]
    {
        false
    }
}

/// Whether the CPU has AVX2 and FMA, what the AVX2 builds of our FMA kernels need.
#[inline]
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The widest vector kernels this process runs, in words (`bench` prints it).
pub fn kernels_in_use() -> &'static str {
    if use_avx512() {
        "AVX-512"
    } else if has_avx2_fma() {
        "AVX2+FMA"
    } else {
        "baseline"
    }
}
