/*
 * secretwipe: after socks5_wipe_registers() no vector register holds
 * what was loaded into it before (the password's bytes, in real use), the
 * upper halves of the AVX registers included. (The dead-stack wipe is
 * covered end to end by test_security's memscan.)
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../../client/wipe.h"

#if defined(__x86_64__)
/* Loads a pattern into xmm0-15 (ymm0-15 with AVX), calls the function
 * with the red zone stepped over, and stores the registers. */
static void run_with_pattern(bool avx, uint8_t out[16][32])
{
	static uint8_t pat[32];

	memset(pat, 0xA5, sizeof(pat));
	memset(out, 0x5A, 16 * 32);
	if (avx)
		__asm__ volatile(
			"vmovdqu (%0), %%ymm0\n\tvmovdqu (%0), %%ymm1\n\t"
			"vmovdqu (%0), %%ymm2\n\tvmovdqu (%0), %%ymm3\n\t"
			"vmovdqu (%0), %%ymm4\n\tvmovdqu (%0), %%ymm5\n\t"
			"vmovdqu (%0), %%ymm6\n\tvmovdqu (%0), %%ymm7\n\t"
			"vmovdqu (%0), %%ymm8\n\tvmovdqu (%0), %%ymm9\n\t"
			"vmovdqu (%0), %%ymm10\n\tvmovdqu (%0), %%ymm11\n\t"
			"vmovdqu (%0), %%ymm12\n\tvmovdqu (%0), %%ymm13\n\t"
			"vmovdqu (%0), %%ymm14\n\tvmovdqu (%0), %%ymm15\n\t"
			"mov %%rsp, %%r12\n\tsub $128, %%rsp\n\t"
			"and $-16, %%rsp\n\t"
			"call socks5_wipe_registers\n\t"
			"mov %%r12, %%rsp\n\t"
			"vmovdqu %%ymm0, 0(%1)\n\tvmovdqu %%ymm1, 32(%1)\n\t"
			"vmovdqu %%ymm2, 64(%1)\n\tvmovdqu %%ymm3, 96(%1)\n\t"
			"vmovdqu %%ymm4, 128(%1)\n\tvmovdqu %%ymm5, 160(%1)\n\t"
			"vmovdqu %%ymm6, 192(%1)\n\tvmovdqu %%ymm7, 224(%1)\n\t"
			"vmovdqu %%ymm8, 256(%1)\n\tvmovdqu %%ymm9, 288(%1)\n\t"
			"vmovdqu %%ymm10, 320(%1)\n\tvmovdqu %%ymm11, 352(%1)\n\t"
			"vmovdqu %%ymm12, 384(%1)\n\tvmovdqu %%ymm13, 416(%1)\n\t"
			"vmovdqu %%ymm14, 448(%1)\n\tvmovdqu %%ymm15, 480(%1)\n\t"
			"vzeroupper"
			: : "r"(pat), "r"(out)
			: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
			  "r11", "r12", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
			  "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
			  "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
	else
		__asm__ volatile(
			"movdqu (%0), %%xmm0\n\tmovdqu (%0), %%xmm1\n\t"
			"movdqu (%0), %%xmm2\n\tmovdqu (%0), %%xmm3\n\t"
			"movdqu (%0), %%xmm4\n\tmovdqu (%0), %%xmm5\n\t"
			"movdqu (%0), %%xmm6\n\tmovdqu (%0), %%xmm7\n\t"
			"movdqu (%0), %%xmm8\n\tmovdqu (%0), %%xmm9\n\t"
			"movdqu (%0), %%xmm10\n\tmovdqu (%0), %%xmm11\n\t"
			"movdqu (%0), %%xmm12\n\tmovdqu (%0), %%xmm13\n\t"
			"movdqu (%0), %%xmm14\n\tmovdqu (%0), %%xmm15\n\t"
			"mov %%rsp, %%r12\n\tsub $128, %%rsp\n\t"
			"and $-16, %%rsp\n\t"
			"call socks5_wipe_registers\n\t"
			"mov %%r12, %%rsp\n\t"
			"movdqu %%xmm0, 0(%1)\n\tmovdqu %%xmm1, 32(%1)\n\t"
			"movdqu %%xmm2, 64(%1)\n\tmovdqu %%xmm3, 96(%1)\n\t"
			"movdqu %%xmm4, 128(%1)\n\tmovdqu %%xmm5, 160(%1)\n\t"
			"movdqu %%xmm6, 192(%1)\n\tmovdqu %%xmm7, 224(%1)\n\t"
			"movdqu %%xmm8, 256(%1)\n\tmovdqu %%xmm9, 288(%1)\n\t"
			"movdqu %%xmm10, 320(%1)\n\tmovdqu %%xmm11, 352(%1)\n\t"
			"movdqu %%xmm12, 384(%1)\n\tmovdqu %%xmm13, 416(%1)\n\t"
			"movdqu %%xmm14, 448(%1)\n\tmovdqu %%xmm15, 480(%1)"
			: : "r"(pat), "r"(out)
			: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10",
			  "r11", "r12", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5",
			  "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",
			  "xmm12", "xmm13", "xmm14", "xmm15", "memory", "cc");
}

START_TEST(vector_registers_cleared)
{
	static uint8_t out[16][32], zero[32];
	bool avx;
	size_t width, r;

	__builtin_cpu_init();
	avx = __builtin_cpu_supports("avx");
	width = avx ? 32 : 16;
	run_with_pattern(avx, out);
	for (r = 0; r < 16; r++)
		ck_assert_msg(!memcmp(out[r], zero, width),
			      "vector register %zu still holds the pattern", r);
}
END_TEST
#else
START_TEST(nothing_to_clear_here)
{
	socks5_wipe_registers(); /* a no-op elsewhere; must not crash */
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("secretwipe");
	TCase *tc = tcase_create("wipe");
	SRunner *sr;
	int failed;

#if defined(__x86_64__)
	tcase_add_test(tc, vector_registers_cleared);
#else
	tcase_add_test(tc, nothing_to_clear_here);
#endif
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
