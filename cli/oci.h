/* SPDX-License-Identifier: MIT */
/*
 * oci.h - usbox-oci, the OCI runtime command line (runc's), chosen by the
 * binary's name.
 */
#ifndef USBOX_CLI_OCI_H
#define USBOX_CLI_OCI_H

/* oci_main() - run usbox-oci's command line.  Return: the exit status. */
int oci_main(int argc, char **argv);

#endif
