#ifndef GREET_H
#define GREET_H

/* "Hello, NAME!" in a static buffer. */
const char *greet(const char *name);

#endif
