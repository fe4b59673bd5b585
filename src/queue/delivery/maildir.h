// Local delivery into Maildir folders (the layout of qmail's maildir(5)):
// one folder per recipient address under the base directory, each message
// written to tmp/, fsync'd, and renamed into new/. Files use LF line ends,
// as Maildir readers expect, with Return-Path and Delivered-To on top.
#pragma once

#include <string>
#include <vector>

#include "queue/delivery/result.h"

namespace mailmoat::queue {

// Folder for one address: the address lower-cased, with '/' and a leading '.' made safe.
std::string maildir_folder(const std::string& base, const std::string& address);

RecipientResult deliver_maildir(const std::string& base, const std::string& hostname, const std::string& sender,
                                const std::string& recipient, std::string_view message);

}  // namespace mailmoat::queue
