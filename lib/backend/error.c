#include "error.h"

#include <stdarg.h>
#include <stdio.h>

void be_set_error(be_backend *be, int status, const char *fmt, ...)
{
    if (be->error_status) return; /* the first failure is the one to report */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(be->error_message, sizeof be->error_message, fmt, ap);
    va_end(ap);
    be->error_status = status;
}

int be_take_error(be_backend *be, char *message, size_t size)
{
    int status = be->error_status;
    if (status && message && size) snprintf(message, size, "%s", be->error_message);
    be->error_status = 0;
    be->error_message[0] = '\0';
    return status;
}
