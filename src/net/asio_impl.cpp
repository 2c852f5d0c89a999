// Boost.Asio is compiled once here (BOOST_ASIO_SEPARATE_COMPILATION) so that
// every other translation unit only parses declarations.
#include <boost/asio/impl/src.hpp>
