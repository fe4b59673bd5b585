// Compiled by the boundary test with a pure module's include path: must fail.
#include <boost/asio/io_context.hpp>
