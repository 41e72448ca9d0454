#include <mfpo/version.h>

unsigned mfpo_version_number(void)
{
    return MFPO_VERSION_NUMBER;
}

const char *mfpo_version_string(void)
{
    return MFPO_VERSION_STRING;
}
