/* SPDX-License-Identifier: MIT */
/* being written: fails until it is */
int main(void)
{
	return 1;
}
