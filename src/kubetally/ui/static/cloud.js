/* The Cloud costs page has no data source yet: its empty state is static. */
"use strict";
