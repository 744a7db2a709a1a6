/* Configure-time probe (tests/sigaudit/meson.build): the fuzz target is
 * built only when clang can link a libFuzzer program with ASan. */
int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);

int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{
	(void)d;
	(void)n;
	return 0;
}
