/* SPDX-License-Identifier: MIT */
#include "spa_client.h"

int main(int argc, char **argv)
{
	return spa_client_main(argc, argv);
}
